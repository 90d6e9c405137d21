using Duckton.Cli;

return CliCommands.Run(args);
