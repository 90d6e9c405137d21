namespace Duckton.Transport;

/// <summary>A payload does not follow its documented layout (short, over a cap, bad UTF-8, bad flag, trailing bytes).</summary>
internal sealed class PayloadFormatException : FormatException
{
    public PayloadFormatException(string message)
        : base(message)
    {
    }
}
