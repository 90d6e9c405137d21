using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Duckton.Transport;

/// <summary>A <c>major.minor.patch</c> protocol version; each part is 0–999999, decimal, no sign, no leading zeros.</summary>
internal readonly record struct ProtocolVersion(int Major, int Minor, int Patch) : IComparable<ProtocolVersion>
{
    public const string Name = "duckdb-p2p";

    public static bool TryParse([NotNullWhen(true)] string? text, out ProtocolVersion version)
    {
        version = default;
        if (text is null || text.Length > 20)
        {
            return false;
        }
        var parts = text.Split('.');
        if (parts.Length != 3)
        {
            return false;
        }
        Span<int> values = stackalloc int[3];
        for (var i = 0; i < 3; i++)
        {
            var p = parts[i];
            if (p.Length is 0 or > 6 || (p.Length > 1 && p[0] == '0'))
            {
                return false;
            }
            foreach (var c in p)
            {
                if (!char.IsAsciiDigit(c))
                {
                    return false;
                }
            }
            values[i] = int.Parse(p, NumberStyles.None, CultureInfo.InvariantCulture);
        }
        version = new ProtocolVersion(values[0], values[1], values[2]);
        return true;
    }

    public static ProtocolVersion Parse(string text, string what) =>
        TryParse(text, out var v) ? v : throw new ArgumentException($"{what} '{text}' is not a major.minor.patch version");

    public int CompareTo(ProtocolVersion other) =>
        Major != other.Major ? Major.CompareTo(other.Major)
        : Minor != other.Minor ? Minor.CompareTo(other.Minor)
        : Patch.CompareTo(other.Patch);

    public static bool operator <(ProtocolVersion a, ProtocolVersion b) => a.CompareTo(b) < 0;

    public static bool operator >(ProtocolVersion a, ProtocolVersion b) => a.CompareTo(b) > 0;

    public static bool operator <=(ProtocolVersion a, ProtocolVersion b) => a.CompareTo(b) <= 0;

    public static bool operator >=(ProtocolVersion a, ProtocolVersion b) => a.CompareTo(b) >= 0;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}.{Patch}");

    /// <summary>
    /// The version two peers speak, or null with <paramref name="problem"/> saying why they cannot talk. Rules (symmetric): same
    /// major; the peer's version at least my minimum; my version at least the peer's minimum. The result is the lower version.
    /// </summary>
    public static ProtocolVersion? Negotiate(ProtocolVersion mine, ProtocolVersion myMin, ProtocolVersion peer, ProtocolVersion peerMin, out string problem)
    {
        problem = "";
        if (peer.Major != mine.Major)
        {
            problem = $"peer speaks {Name} {peer.Major}.x; this node supports {mine.Major}.x";
            return null;
        }
        if (peer < myMin)
        {
            problem = $"peer speaks {Name} {peer}; this node requires at least {myMin}";
            return null;
        }
        if (mine < peerMin)
        {
            problem = $"peer requires {Name} {peerMin} or later; this node speaks {mine}";
            return null;
        }
        return mine < peer ? mine : peer;
    }
}
