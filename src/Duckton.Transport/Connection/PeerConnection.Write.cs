namespace Duckton.Transport;

public sealed partial class PeerConnection
{
    /// <summary>
    /// Sends one frame. Safe to call from several tasks at once: each frame is written whole before the next starts.
    /// </summary>
    /// <exception cref="ArgumentException">The payload exceeds <see cref="MaxSendFrameBytes"/>; nothing was sent and the connection stays open.</exception>
    /// <exception cref="IOException">The connection is closed or broke while sending.</exception>
    public async ValueTask SendAsync(MessageType type, ReadOnlyMemory<byte> payload, CancellationToken ct = default)
    {
        ThrowIfOverLimit(type, payload.Length, nameof(payload));
        ThrowIfClosed();
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ThrowIfClosed();
            if (_deferred.Count == 0)
            {
                await _writer.WriteAsync(type, payload, ct).ConfigureAwait(false);
            }
            else
            {
                _deferred.Add((type, payload));
                await WriteDeferredAsync(ct).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not ObjectDisposedException || Volatile.Read(ref _disposed) == 0)
        {
            // A partial frame may be on the wire: nothing sent after it could be parsed.
            Break(ex);
            throw;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// Sends several frames in order, with no other sender's frame between them; small ones together go out in one write.
    /// </summary>
    /// <exception cref="ArgumentException">A payload exceeds <see cref="MaxSendFrameBytes"/>; nothing was sent and the connection stays open.</exception>
    /// <exception cref="IOException">The connection is closed or broke while sending.</exception>
    public async ValueTask SendManyAsync(IReadOnlyList<(MessageType Type, ReadOnlyMemory<byte> Payload)> frames, CancellationToken ct = default)
    {
        foreach (var (type, payload) in frames)
        {
            ThrowIfOverLimit(type, payload.Length, nameof(frames));
        }
        ThrowIfClosed();
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ThrowIfClosed();
            if (_deferred.Count == 0)
            {
                await _writer.WriteManyAsync(frames, ct).ConfigureAwait(false);
            }
            else
            {
                _deferred.AddRange(frames);
                await WriteDeferredAsync(ct).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not ObjectDisposedException || Volatile.Read(ref _disposed) == 0)
        {
            Break(ex);
            throw;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// Queues a frame to go out in front of the next frame sent on this connection, in the same write, or on its own
    /// after <paramref name="maxHold"/> if nothing is sent before. For a small answer that is about to be followed by
    /// another one (a Bid whose Dispatch is already here, ahead of that job's commit): the peer then reads both from
    /// one record instead of being woken twice. Frames keep their order: deferred ones always precede later sends.
    /// </summary>
    /// <exception cref="ArgumentException">The payload exceeds <see cref="MaxSendFrameBytes"/>; nothing was queued.</exception>
    /// <exception cref="IOException">The connection is closed.</exception>
    public async ValueTask SendDeferredAsync(MessageType type, ReadOnlyMemory<byte> payload, TimeSpan maxHold, CancellationToken ct = default)
    {
        ThrowIfOverLimit(type, payload.Length, nameof(payload));
        ThrowIfClosed();
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ThrowIfClosed();
            _deferred.Add((type, payload));
            _holdTimer ??= _options.Time.CreateTimer(static state => _ = ((PeerConnection)state!).FlushDeferredAsync(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            if (_deferred.Count == 1)
            {
                _holdTimer.Change(maxHold, Timeout.InfiniteTimeSpan);
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Whether a deferred frame is still waiting for the next send or its hold to end (read without the send lock: a hint).</summary>
    internal bool HasDeferred => _deferred.Count > 0;

    /// <summary>Sends what <see cref="SendDeferredAsync"/> queued, when its hold ends with nothing sent meanwhile. Never throws (a timer callback).</summary>
    private async Task FlushDeferredAsync()
    {
        try
        {
            if (!IsOpen || !await _sendLock.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false))
            {
                return; // closed, or a send in flight is writing them
            }
            try
            {
                if (_deferred.Count > 0 && IsOpen)
                {
                    await WriteDeferredAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is not ObjectDisposedException || Volatile.Read(ref _disposed) == 0)
            {
                Break(ex);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception)
        {
            // Disposed meanwhile: the frames have nowhere to go.
        }
    }

    /// <summary>Writes the deferred frames (and whatever the caller appended) in one write; under the send lock.</summary>
    private async ValueTask WriteDeferredAsync(CancellationToken ct)
    {
        _holdTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        try
        {
            await _writer.WriteManyAsync(_deferred, ct).ConfigureAwait(false);
        }
        finally
        {
            _deferred.Clear();
        }
    }

    private void ThrowIfOverLimit(MessageType type, int length, string parameter)
    {
        if (length > _writer.MaxFrameBytes)
        {
            throw new ArgumentException($"a {type} payload of {length} bytes exceeds the frame limit of {_writer.MaxFrameBytes} bytes agreed with {RemoteNodeId}; split it", parameter);
        }
    }

    /// <summary>Test hook: writes raw bytes (e.g. a forged frame header) under the send lock.</summary>
    internal async ValueTask WriteRawForTestsAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct = default)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await _ssl.WriteAsync(bytes, ct).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends a Reject frame and closes; best effort, bounded by one second. Used when this node refuses the peer mid-connection.</summary>
    public async ValueTask RejectAndCloseAsync(RejectReason reason, string message)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1), _options.Time);
            var payload = HandshakeCodec.EncodeReject(reason, message, _options.ProtocolVersion, _options.EffectiveMinSupportedVersion);
            await SendAsync(MessageType.Reject, payload, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or ArgumentException)
        {
        }
        await DisposeAsync().ConfigureAwait(false);
    }
}
