namespace Duckton.Transport;

public sealed partial class PeerConnection
{
    private const int ReceiveIdle = 0;
    private const int ReceiveBusy = 1;
    private const int ReceiveReleased = 2;

    private int _receiving;

    /// <summary>
    /// Receives the next frame. One reader at a time. The payload is a fresh array that stays valid forever.
    /// </summary>
    /// <exception cref="EndOfStreamException">The peer closed the connection cleanly between frames.</exception>
    /// <exception cref="FrameException">The peer sent a malformed frame; the connection was dropped.</exception>
    /// <exception cref="PeerRejectedException">The peer sent a Reject frame (and closed).</exception>
    /// <exception cref="InvalidOperationException">Another receive is pending.</exception>
    public ValueTask<Frame> ReceiveAsync(CancellationToken ct = default) =>
        ReceiveCoreAsync(static (reader, token) => reader.ReadAsync(token), static frame => frame.Type == MessageType.Reject ? frame.Payload : (ReadOnlyMemory<byte>?)null, ct);

    /// <summary>
    /// Like <see cref="ReceiveAsync"/>, but the payload is in a pooled buffer that the caller returns by disposing the result: no
    /// allocation per frame, for bulk result streams.
    /// </summary>
    public ValueTask<LeasedFrame> ReceiveLeasedAsync(CancellationToken ct = default) =>
        ReceiveCoreAsync(static (reader, token) => reader.ReadLeasedAsync(token), static frame =>
        {
            if (frame.Type != MessageType.Reject)
            {
                return null;
            }
            var copy = frame.Payload.ToArray();
            frame.Dispose();
            return copy;
        }, ct);

    private async ValueTask<T> ReceiveCoreAsync<T>(Func<FrameReader, CancellationToken, ValueTask<T>> read, Func<T, ReadOnlyMemory<byte>?> rejectPayload,
        CancellationToken ct)
    {
        switch (Interlocked.CompareExchange(ref _receiving, ReceiveBusy, ReceiveIdle))
        {
            case ReceiveBusy:
                throw new InvalidOperationException("a ReceiveAsync is already pending on this connection; one reader at a time");
            case ReceiveReleased:
                ThrowIfClosed();
                throw new ObjectDisposedException(nameof(PeerConnection));
        }
        try
        {
            ThrowIfClosed();
            var frame = await read(_reader, ct).ConfigureAwait(false);
            if (rejectPayload(frame) is { } reject)
            {
                throw RejectFromPeer(reject.Span);
            }
            return frame;
        }
        catch (EndOfStreamException ex)
        {
            Break(ex);
            throw;
        }
        catch (FrameException ex)
        {
            Break(ex);
            _options.Logger.FrameRejected(RemoteNodeId, RemoteAddress, ex.Message);
            throw;
        }
        catch (PeerRejectedException ex)
        {
            Break(ex);
            throw;
        }
        catch (Exception ex) when (Volatile.Read(ref _disposed) != 0 && ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
            throw new ObjectDisposedException($"the connection to {RemoteNodeId} was closed locally", ex);
        }
        catch (Exception ex)
        {
            // Cancellation or I/O error inside a frame: the stream position is unknown, the connection is unusable.
            Break(ex);
            throw;
        }
        finally
        {
            Interlocked.CompareExchange(ref _receiving, ReceiveIdle, ReceiveBusy);
            if (Volatile.Read(ref _disposed) != 0)
            {
                ReleaseReaderIfIdle();
            }
        }
    }

    /// <summary>Returns the pooled receive buffer once no receive can use it any more.</summary>
    private void ReleaseReaderIfIdle()
    {
        if (Interlocked.CompareExchange(ref _receiving, ReceiveReleased, ReceiveIdle) == ReceiveIdle)
        {
            _reader.Dispose();
        }
    }

    private PeerRejectedException RejectFromPeer(ReadOnlySpan<byte> payload)
    {
        try
        {
            var (code, message, _, _) = HandshakeCodec.DecodeReject(payload);
            var known = Enum.IsDefined((RejectReason)code);
            var reason = known ? (RejectReason)code : RejectReason.ProtocolViolation;
            message = known ? message : $"unknown reject code {code}: {message}";
            return new PeerRejectedException(reason, $"{RemoteNodeId} at {RemoteAddress} closed the connection ({reason}): {message}")
            {
                ByRemote = true,
                RemoteAddress = RemoteAddress,
                RemoteNodeId = RemoteNodeId,
                Detail = message,
            };
        }
        catch (PayloadFormatException ex)
        {
            return new PeerRejectedException(RejectReason.ProtocolViolation,
                $"{RemoteNodeId} at {RemoteAddress} sent a malformed Reject frame: {ex.Message}")
            {
                ByRemote = true,
                RemoteAddress = RemoteAddress,
                RemoteNodeId = RemoteNodeId,
                Detail = ex.Message,
            };
        }
    }
}
