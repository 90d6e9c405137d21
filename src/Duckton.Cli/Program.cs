using Duckton.Cli;
using Duckton.Node.Grid.Execution;

// Hidden subcommand: the sandbox worker a host starts for its jobs (stdout is its pipe to the host: nothing else may print).
if (args.Length > 0 && args[0] == SandboxWorkerProcess.Subcommand)
{
    return SandboxWorkerProcess.Run(args[1..]);
}

// A host started from this program runs jobs in sandbox workers: this same program, run again with the subcommand.
JobExecutors.WorkerCommand = Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) is "dotnet"
    ? [self, typeof(CliCommands).Assembly.Location]
    : Environment.ProcessPath is { } apphost ? [apphost] : null;

// A process-wide decision this program makes for itself (the node library and the DuckDB extension never touch the
// host process's thread pool): DuckDB calls into the node synchronously (table-function bind) and grid commands wait on
// async grid work, so callers block pool threads while that work needs others; a floor of 32 avoids the pool's slow
// thread injection on small machines.
ThreadPool.GetMinThreads(out var workers, out var io);
if (workers < 32)
{
    ThreadPool.SetMinThreads(32, io);
}

// Hidden subcommands: the processes of `bench grid`'s bare message pattern (after the pool floor above, as a host has it).
if (args.Length == 2 && args[0] == MessagePatternBenchmark.HostRole)
{
    return MessagePatternBenchmark.Host(args[1]);
}
if (args.Length == 1 && args[0] == MessagePatternBenchmark.WorkerRole)
{
    return MessagePatternBenchmark.Worker();
}

return CliCommands.Run(args);
