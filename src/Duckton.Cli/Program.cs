using Duckton.Cli;

// A process-wide decision this program makes for itself (the node library and the DuckDB extension never touch the
// host process's thread pool): DuckDB calls into the node synchronously (table-function bind) and grid commands wait on
// async grid work, so callers block pool threads while that work needs others; a floor of 32 avoids the pool's slow
// thread injection on small machines.
ThreadPool.GetMinThreads(out var workers, out var io);
if (workers < 32)
{
    ThreadPool.SetMinThreads(32, io);
}

return CliCommands.Run(args);
