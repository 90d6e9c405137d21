namespace Duckton.Ton;

/// <summary>Input that is not valid TON data (a malformed bag of cells, a bad address, an out-of-range amount).</summary>
public sealed class TonFormatException : FormatException
{
    public TonFormatException(string message) : base(message)
    {
    }

    public TonFormatException(string message, Exception inner) : base(message, inner)
    {
    }
}
