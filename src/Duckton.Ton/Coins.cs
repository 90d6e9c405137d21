using System.Globalization;
using System.Numerics;

namespace Duckton.Ton;

/// <summary>
/// An amount of TON in nanoton (1 TON = 10^9 nanoton), as TL-B <c>Coins</c> (VarUInteger 16) can hold it: 0 to
/// 2^120 − 1. Negative or larger amounts are refused when the value is made, not when it is sent.
/// </summary>
public readonly record struct Coins : IComparable<Coins>
{
    public const long NanotonPerTon = 1_000_000_000;

    /// <summary>2^120 − 1, the largest VarUInteger 16 value.</summary>
    public static readonly UInt128 MaxNanoton = (UInt128.One << 120) - 1;

    public static Coins Zero => default;

    private Coins(UInt128 nanoton) => Nanoton = nanoton;

    public UInt128 Nanoton { get; }

    public static Coins FromNanoton(UInt128 nanoton)
    {
        if (nanoton > MaxNanoton)
        {
            throw new TonFormatException("amount exceeds the largest TON amount (2^120 - 1 nanoton)");
        }
        return new Coins(nanoton);
    }

    public static Coins FromNanoton(long nanoton) => nanoton < 0
        ? throw new TonFormatException($"amount must not be negative (got {nanoton} nanoton)")
        : new Coins((UInt128)nanoton);

    public static Coins FromNanoton(BigInteger nanoton)
    {
        if (nanoton.Sign < 0)
        {
            throw new TonFormatException($"amount must not be negative (got {nanoton} nanoton)");
        }
        if (nanoton > (BigInteger)MaxNanoton)
        {
            throw new TonFormatException("amount exceeds the largest TON amount (2^120 - 1 nanoton)");
        }
        return new Coins((UInt128)nanoton);
    }

    /// <summary>Whole and fractional TON ("1.5" = 1 500 000 000 nanoton); more than 9 decimals is refused, not rounded.</summary>
    public static Coins FromTon(decimal ton)
    {
        if (ton < 0)
        {
            throw new TonFormatException($"amount must not be negative (got {ton.ToString(CultureInfo.InvariantCulture)} TON)");
        }
        var nano = ton * NanotonPerTon;
        if (nano != decimal.Truncate(nano))
        {
            throw new TonFormatException($"{ton.ToString(CultureInfo.InvariantCulture)} TON has more than 9 decimals");
        }
        return FromNanoton(new BigInteger(nano));
    }

    /// <summary>Parses a TON amount written in decimal ("0.05", "12"); refuses signs, exponents and more than 9 decimals.</summary>
    public static Coins ParseTon(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (t.Length == 0 || t.Contains('-', StringComparison.Ordinal))
        {
            throw new TonFormatException(t.Contains('-', StringComparison.Ordinal) ? $"amount must not be negative: '{t}'" : "amount is empty");
        }
        var dot = t.IndexOf('.', StringComparison.Ordinal);
        var whole = dot < 0 ? t : t[..dot];
        var frac = dot < 0 ? "" : t[(dot + 1)..];
        if (whole.Length == 0 && frac.Length == 0 || !whole.All(char.IsAsciiDigit) || !frac.All(char.IsAsciiDigit))
        {
            throw new TonFormatException($"not a TON amount: '{t}'");
        }
        if (frac.Length > 9)
        {
            throw new TonFormatException($"'{t}' TON has more than 9 decimals");
        }
        var value = BigInteger.Parse(whole.Length == 0 ? "0" : whole, CultureInfo.InvariantCulture) * NanotonPerTon
            + BigInteger.Parse(frac.PadRight(9, '0'), CultureInfo.InvariantCulture);
        return FromNanoton(value);
    }

    public static Coins operator +(Coins a, Coins b) => FromNanoton((BigInteger)a.Nanoton + b.Nanoton);

    public static Coins operator -(Coins a, Coins b) => FromNanoton((BigInteger)a.Nanoton - b.Nanoton);

    public static bool operator <(Coins a, Coins b) => a.Nanoton < b.Nanoton;

    public static bool operator >(Coins a, Coins b) => a.Nanoton > b.Nanoton;

    public static bool operator <=(Coins a, Coins b) => a.Nanoton <= b.Nanoton;

    public static bool operator >=(Coins a, Coins b) => a.Nanoton >= b.Nanoton;

    public int CompareTo(Coins other) => Nanoton.CompareTo(other.Nanoton);

    /// <summary>The amount in TON with up to 9 decimals ("1.5"), invariant culture.</summary>
    public string ToTonString()
    {
        var whole = Nanoton / NanotonPerTon;
        var frac = (ulong)(Nanoton % NanotonPerTon);
        return frac == 0
            ? whole.ToString(CultureInfo.InvariantCulture)
            : whole.ToString(CultureInfo.InvariantCulture) + "." + frac.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0');
    }

    public override string ToString() => ToTonString() + " TON";
}
