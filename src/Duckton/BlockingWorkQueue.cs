using System.Collections.Concurrent;

namespace Duckton;

/// <summary>
/// Runs the blocking parts of the library (DuckDB's C API, the node's query path) on a few dedicated threads, so an
/// awaiting caller never holds a thread-pool thread: a thousand concurrent <c>QueryAsync</c> calls cost a thousand
/// pending tasks, not a thousand blocked pool threads. Work waiting in the queue is dropped at once when its token is
/// cancelled; running work sees the same token.
/// </summary>
internal sealed class BlockingWorkQueue : IDisposable
{
    private readonly BlockingCollection<IWorkItem> _queue = new(new ConcurrentQueue<IWorkItem>());
    private readonly Thread[] _threads;

    public BlockingWorkQueue(int threads, string name)
    {
        _threads = new Thread[threads];
        for (var i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = $"{name} {i + 1}" };
            _threads[i].Start();
        }
    }

    public int ThreadCount => _threads.Length;

    public Task<T> Enqueue<T>(Func<CancellationToken, T> work, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }
        var item = new WorkItem<T>(work, cancellationToken);
        try
        {
            _queue.Add(item, CancellationToken.None);
        }
        catch (InvalidOperationException)
        {
            item.Dispose();
            throw new ObjectDisposedException(nameof(DucktonNode));
        }
        return item.Task;
    }

    private void Run()
    {
        foreach (var item in _queue.GetConsumingEnumerable())
        {
            item.Execute();
        }
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        foreach (var t in _threads)
        {
            if (t != Thread.CurrentThread)
            {
                t.Join();
            }
        }
        _queue.Dispose();
    }

    private interface IWorkItem
    {
        void Execute();
    }

    private sealed class WorkItem<T> : IWorkItem, IDisposable
    {
        private readonly Func<CancellationToken, T> _work;
        private readonly CancellationToken _token;
        // Continuations never run inline on a dedicated thread: the caller's code goes back to its own context.
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenRegistration _registration;
        private int _started;

        public WorkItem(Func<CancellationToken, T> work, CancellationToken token)
        {
            _work = work;
            _token = token;
            // Still queued when cancelled: the caller's task ends now, the item is skipped when dequeued.
            _registration = token.Register(static s =>
            {
                var self = (WorkItem<T>)s!;
                if (Interlocked.CompareExchange(ref self._started, 1, 0) == 0)
                {
                    self._done.TrySetCanceled(self._token);
                }
            }, this);
        }

        public Task<T> Task => _done.Task;

        public void Execute()
        {
            if (Interlocked.CompareExchange(ref _started, 1, 0) != 0)
            {
                Dispose();
                return;
            }
            try
            {
                _done.TrySetResult(_work(_token));
            }
            catch (OperationCanceledException) when (_token.IsCancellationRequested)
            {
                _done.TrySetCanceled(_token);
            }
#pragma warning disable CA1031 // the exception is handed to the awaiting caller, not swallowed
            catch (Exception e)
#pragma warning restore CA1031
            {
                _done.TrySetException(e);
            }
            finally
            {
                Dispose();
            }
        }

        public void Dispose() => _registration.Dispose();
    }
}
