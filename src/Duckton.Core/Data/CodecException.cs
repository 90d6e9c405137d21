namespace Duckton.Core.Data;

/// <summary>
/// Thrown by <see cref="BatchCodec"/> when its input is not a valid encoding or exceeds a <see cref="CodecLimits"/> bound.
/// The decoder throws nothing else, whatever bytes it is given.
/// </summary>
internal sealed class CodecException : FormatException
{
    public CodecException()
    {
    }

    public CodecException(string message) : base(message)
    {
    }

    public CodecException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
