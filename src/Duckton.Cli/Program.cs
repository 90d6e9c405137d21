using System.CommandLine;
using Duckton.Cli;

return CliCommands.Build().Parse(args).Invoke();
