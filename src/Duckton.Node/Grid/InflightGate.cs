namespace Duckton.Node.Grid;

/// <summary>
/// Admits at most a configured number of concurrent grid queries (<c>scheduler.max_inflight_jobs</c>); the rest wait in
/// arrival order. The limit is read on every entry, so a raised setting applies to the next query (a lowered one once the
/// queries already admitted or waiting have finished).
/// </summary>
internal sealed class InflightGate
{
    private readonly Lock _lock = new();
    private readonly LinkedList<TaskCompletionSource> _waiting = new();
    private int _running;

    public int Running
    {
        get
        {
            lock (_lock)
            {
                return _running;
            }
        }
    }

    /// <summary>Waits for a slot; dispose the result to give it back.</summary>
    public async ValueTask<IDisposable> EnterAsync(int limit, CancellationToken cancellationToken)
    {
        LinkedListNode<TaskCompletionSource> node;
        lock (_lock)
        {
            if (_running < limit && _waiting.Count == 0)
            {
                _running++;
                return new Slot(this);
            }
            node = _waiting.AddLast(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }
        try
        {
            // Woken in arrival order by Release; the waker already counted this query as running.
            await node.Value.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return new Slot(this);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                if (node.List is not null)
                {
                    _waiting.Remove(node);
                    throw;
                }
            }
            // Woken while being cancelled: the slot was handed over, so hand it on.
            Release();
            throw;
        }
    }

    private void Release()
    {
        TaskCompletionSource? next = null;
        lock (_lock)
        {
            if (_waiting.First is { } first)
            {
                _waiting.RemoveFirst();
                next = first.Value;
            }
            else
            {
                _running--;
            }
        }
        next?.TrySetResult();
    }

    private sealed class Slot(InflightGate gate) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
