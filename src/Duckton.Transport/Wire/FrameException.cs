namespace Duckton.Transport;

/// <summary>What was wrong with a frame.</summary>
internal enum FrameError
{
    /// <summary>The declared payload length exceeds the configured limit.</summary>
    TooLarge,

    /// <summary>The frame version byte is not 1.</summary>
    UnsupportedVersion,

    /// <summary>The stream ended inside a frame.</summary>
    Truncated,
}

/// <summary>
/// A malformed frame. The stream is no longer aligned on a frame boundary, so the connection that produced it is closed.
/// </summary>
internal sealed class FrameException : IOException
{
    public FrameException(FrameError error, string message)
        : base(message)
    {
        Error = error;
    }

    /// <summary>What was wrong.</summary>
    public FrameError Error { get; }
}
