"""One reader per file format; each turns a file into a list of `Block`s."""
