console.error("gemma3n: the CLI arrives with the text-generation issue");
