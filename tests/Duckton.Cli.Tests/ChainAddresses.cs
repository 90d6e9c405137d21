namespace Duckton.Cli.Tests;

/// <summary>Address forms the tests compare chain senders and payees by.</summary>
internal static class ChainAddresses
{
    /// <summary>A raw address (<c>0:hex</c>) in the base64 form the chain helper compares senders by (only workchain and hash are compared).</summary>
    public static string Friendly(string raw)
    {
        var parts = raw.Split(':');
        var bytes = new byte[36];
        bytes[0] = 0x11;
        bytes[1] = (byte)sbyte.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
        Convert.FromHexString(parts[1]).CopyTo(bytes, 2);
        return Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_');
    }
}
