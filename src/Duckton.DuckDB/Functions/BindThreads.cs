using System.Collections.Concurrent;

namespace Duckton.DuckDB.Functions;

/// <summary>
/// Threads that run table-function binds while DuckDB's thread polls for an interrupt. A bind may block for seconds (a
/// grid query waits for its hosts), so it does not run on the .NET thread pool, where a few blocked binds would starve
/// the asynchronous work they wait for; and a thread started per bind cost more than the small query it ran (a thread
/// start and exit per <c>p2p_query</c> call, measured in docs/BENCHMARKS.md). An idle thread waits for the next bind and
/// ends after <see cref="IdleTimeout"/> without one.
/// </summary>
internal static class BindThreads
{
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(30);

    private static readonly ConcurrentStack<Worker> s_idle = new();

    /// <summary>Runs <paramref name="work"/> on a bind thread (in the caller's execution context); the task ends with its result or exception.</summary>
    public static Task<T> Run<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var context = ExecutionContext.Capture();
        void Job()
        {
            try
            {
                if (context is null)
                {
                    done.SetResult(work());
                }
                else
                {
                    ExecutionContext.Run(context, static state => ((Action)state!)(), (Action)(() => done.SetResult(work())));
                }
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        }
        while (s_idle.TryPop(out var idle))
        {
            if (idle.TryAssign(Job))
            {
                return done.Task;
            }
        }
        _ = new Worker(Job);
        return done.Task;
    }

    private sealed class Worker
    {
        private readonly object _gate = new(); // Monitor.Wait/Pulse: a job is handed over under this lock
        private Action? _job;
        private bool _retired;

        public Worker(Action first)
        {
            _job = first;
            new Thread(Loop) { IsBackground = true, Name = "duckton bind" }.Start();
        }

        /// <summary>Hands <paramref name="job"/> to this idle thread; false when it has retired (the caller tries another).</summary>
        public bool TryAssign(Action job)
        {
            lock (_gate)
            {
                if (_retired)
                {
                    return false;
                }
                _job = job;
                Monitor.Pulse(_gate);
                return true;
            }
        }

        private void Loop()
        {
            while (true)
            {
                Action job;
                lock (_gate)
                {
                    job = _job!;
                }
                job(); // never throws: the job sets its task's exception
                lock (_gate)
                {
                    _job = null;
                }
                s_idle.Push(this);
                lock (_gate)
                {
                    while (_job is null)
                    {
                        if (!Monitor.Wait(_gate, IdleTimeout) && _job is null)
                        {
                            _retired = true; // left in the idle stack: whoever pops it skips it
                            return;
                        }
                    }
                }
            }
        }
    }
}
