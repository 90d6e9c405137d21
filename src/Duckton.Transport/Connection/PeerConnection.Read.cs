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
    public async ValueTask<Frame> ReceiveAsync(CancellationToken ct = default)
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
            var frame = await _reader.ReadAsync(ct).ConfigureAwait(false);
            if (frame.Type == MessageType.Reject)
            {
                throw RejectFromPeer(frame);
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

    private PeerRejectedException RejectFromPeer(Frame frame)
    {
        try
        {
            var (code, message, _, _) = HandshakeCodec.DecodeReject(frame.Payload.Span);
            var reason = Enum.IsDefined((RejectReason)code) ? (RejectReason)code : RejectReason.ProtocolViolation;
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
