import cliProgress from 'cli-progress';

/**
 * A progress bar on stderr for long work (conversion). When stderr is not a terminal (CI,
 * pipes) it prints one line per stage instead of redrawing, so logs stay readable.
 */
export function createProgressReporter(label: string) {
  const interactive = Boolean(process.stderr.isTTY);
  let bar: cliProgress.SingleBar | undefined;
  let currentStage = '';
  let lastPercent = -1;

  function update(event: { stage: string; done: number; total: number }): void {
    if (interactive) {
      if (!bar) {
        bar = new cliProgress.SingleBar(
          { stream: process.stderr, format: `${label} [{bar}] {percentage}% {stage}`, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(event.total, event.done, { stage: event.stage });
      }
      bar.setTotal(event.total);
      bar.update(event.done, { stage: event.stage });
      return;
    }
    const percent = event.total > 0 ? Math.floor((100 * event.done) / event.total) : 100;
    if (event.stage !== currentStage || percent >= lastPercent + 25) {
      currentStage = event.stage;
      lastPercent = percent;
      process.stderr.write(`${label}: ${event.stage} ${percent}%\n`);
    }
  }

  function stop(): void {
    bar?.stop();
  }

  return { update, stop };
}
