namespace Duckton.Transport;

/// <summary>
/// Memory for large frames being received, shared by many connections: a frame above <see cref="ReserveThreshold"/> reserves
/// its declared size before its payload is read and returns it once the read is done. A reservation that does not fit the
/// node's total or its peer's share waits (up to <see cref="Wait"/>) for other frames to finish; past that its connection is
/// closed. Without it, N connections each sending one big frame cost N × the frame limit at once.
/// </summary>
/// <remarks>
/// A frame is always admitted when nothing else is reserved (by anyone, or by its peer), so a limit below the frame size
/// slows a peer down instead of locking it out for good. Thread-safe.
/// </remarks>
public sealed class FrameMemoryBudget
{
    /// <summary>Frames up to this size (they fit the reader's receive buffer) reserve nothing.</summary>
    public const int ReserveThreshold = 64 << 10;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _byPeer = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _used;
    private long _peak;

    /// <param name="totalBytes">Reserved bytes over every peer together (<c>network.frame_memory_bytes</c>).</param>
    /// <param name="perPeerBytes">Reserved bytes of one peer identity (<c>network.frame_memory_per_peer_bytes</c>).</param>
    /// <param name="wait">How long a reservation waits before its connection is closed (<c>network.frame_memory_wait_ms</c>).</param>
    public FrameMemoryBudget(long totalBytes, long perPeerBytes, TimeSpan wait, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perPeerBytes);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(wait, TimeSpan.Zero);
        TotalBytes = totalBytes;
        PerPeerBytes = Math.Min(perPeerBytes, totalBytes);
        Wait = wait;
        _time = time ?? TimeProvider.System;
    }

    public long TotalBytes { get; }
    public long PerPeerBytes { get; }
    public TimeSpan Wait { get; }

    /// <summary>Bytes reserved now.</summary>
    public long InUse
    {
        get
        {
            lock (_gate)
            {
                return _used;
            }
        }
    }

    /// <summary>Most bytes ever reserved at once.</summary>
    public long PeakInUse
    {
        get
        {
            lock (_gate)
            {
                return _peak;
            }
        }
    }

    /// <summary>Reserves <paramref name="bytes"/> for <paramref name="peer"/>, waiting for room up to <see cref="Wait"/>.</summary>
    /// <exception cref="FrameException">No room within <see cref="Wait"/>: the caller closes the connection.</exception>
    internal async ValueTask ReserveAsync(string peer, long bytes, MessageType type, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        while (true)
        {
            Task changed;
            long used, peerUsed;
            lock (_gate)
            {
                used = _used;
                peerUsed = _byPeer.GetValueOrDefault(peer);
                if ((used == 0 || used + bytes <= TotalBytes) && (peerUsed == 0 || peerUsed + bytes <= PerPeerBytes))
                {
                    _used += bytes;
                    _peak = Math.Max(_peak, _used);
                    _byPeer[peer] = peerUsed + bytes;
                    return;
                }
                changed = _changed.Task;
            }
            var left = Wait - _time.GetElapsedTime(started);
            if (left > TimeSpan.Zero)
            {
                try
                {
                    await changed.WaitAsync(left, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // Look once more before giving up: a release may have landed while this thread was not running.
                }
            }
            else
            {
                var whose = peerUsed + bytes > PerPeerBytes
                    ? $"this peer already holds {peerUsed} of its {PerPeerBytes}-byte share (network.frame_memory_per_peer_bytes)"
                    : $"{used} of the node's {TotalBytes} bytes are in use (network.frame_memory_bytes)";
                throw new FrameException(FrameError.TooLarge,
                    $"no frame memory for a {bytes}-byte {type} frame within {Wait.TotalMilliseconds:0} ms: {whose}; closing the connection");
            }
        }
    }

    internal void Release(string peer, long bytes)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _used -= bytes;
            var left = _byPeer.GetValueOrDefault(peer) - bytes;
            if (left <= 0)
            {
                _byPeer.Remove(peer);
            }
            else
            {
                _byPeer[peer] = left;
            }
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }
}
