using System.Collections.Frozen;
using System.Collections.Immutable;

namespace Duckton.Core.Configuration;

// The enums of enum-typed configuration keys. The catalogue names the enum of each key (ConfigCatalog.Keys.cs);
// their spellings come from one table (ConfigEnum), and the typed NodeConfig is generated from both.

/// <summary>Values of the configuration keys typed <c>PinningMode</c>.</summary>
public enum PinningMode
{
    Tofu,
    Allowlist,
}

/// <summary>Values of the configuration keys typed <c>SecurityMode</c>.</summary>
public enum SecurityMode
{
    Public,
    Private,
}

/// <summary>Values of the configuration keys typed <c>GroupEnforcement</c>.</summary>
public enum GroupEnforcement
{
    Soft,
    Token,
}

/// <summary>Values of the configuration keys typed <c>RegionTrust</c>.</summary>
public enum RegionTrust
{
    Declared,
    Attested,
}

/// <summary>Values of the configuration keys typed <c>VerifyMode</c>.</summary>
public enum VerifyMode
{
    Quorum,
    Fast,
}

/// <summary>Values of the configuration keys typed <c>DataClass</c>.</summary>
public enum DataClass
{
    Public,
    Internal,
    Sensitive,
}

/// <summary>Values of the configuration keys typed <c>AttestationLevel</c>.</summary>
public enum AttestationLevel
{
    L0,
    L1,
    L2,
}

/// <summary>Values of the configuration keys typed <c>PlannerPreference</c>.</summary>
public enum PlannerPreference
{
    Local,
    Remote,
    Auto,
}

/// <summary>Values of the configuration keys typed <c>SandboxBackend</c>.</summary>
public enum SandboxBackend
{
    Auto,
    None,
    Rlimit,
    Cgroups,
}

/// <summary>Values of the configuration keys typed <c>TempDirPolicy</c>.</summary>
public enum TempDirPolicy
{
    Ephemeral,
    Inherit,
    Custom,
}

/// <summary>Values of the configuration keys typed <c>SandboxLimitsMode</c>.</summary>
public enum SandboxLimitsMode
{
    InheritBudget,
    Explicit,
}

/// <summary>Values of the configuration keys typed <c>SettlementKind</c>.</summary>
public enum SettlementKind
{
    Noop,
    Channel,
    Onchain,
    Mock,
}

/// <summary>Values of the configuration keys typed <c>TonNetwork</c>.</summary>
public enum TonNetwork
{
    Testnet,
    Mainnet,
    /// <summary>The local emulator of <c>duckton chain up</c> (no real TON).</summary>
    Local,
}

/// <summary>Values of the configuration keys typed <c>PaymentMode</c>.</summary>
public enum PaymentMode
{
    Free,
    Paid,
    Auto,
}

/// <summary>Values of the configuration keys typed <c>PricingModel</c>.</summary>
public enum PricingModel
{
    Metered,
    Fixed,
}

/// <summary>
/// The one spelling table of configuration enums: a member is written as its name in snake_case
/// (<c>ScopedSecret</c> → <c>scoped_secret</c>) unless listed in <see cref="s_exceptions"/>. Reading ignores case,
/// as every enum key always has.
/// </summary>
internal static class ConfigEnum
{
    // Spellings users already write that snake_case would not produce.
    private static readonly FrozenDictionary<Enum, string> s_exceptions = new Dictionary<Enum, string>
    {
        [AttestationLevel.L0] = "L0",
        [AttestationLevel.L1] = "L1",
        [AttestationLevel.L2] = "L2",
    }.ToFrozenDictionary();

    /// <summary>The configuration spelling of <paramref name="value"/>.</summary>
    public static string ToConfigString<T>(this T value)
        where T : struct, Enum
    {
        var index = Table<T>.Values.IndexOf(value);
        return index >= 0 ? Table<T>.Spellings[index] : throw new ArgumentOutOfRangeException(nameof(value), value, $"not a {typeof(T).Name} member");
    }

    /// <summary>Every spelling of <typeparamref name="T"/>, in declaration order.</summary>
    public static ImmutableArray<string> Spellings<T>()
        where T : struct, Enum => Table<T>.Spellings;

    /// <summary>Every member of <typeparamref name="T"/>, in declaration order.</summary>
    public static ImmutableArray<T> Values<T>()
        where T : struct, Enum => Table<T>.Values;

    /// <summary>Reads a spelling (case-insensitive).</summary>
    public static bool TryParse<T>(string text, out T value)
        where T : struct, Enum
    {
        ArgumentNullException.ThrowIfNull(text);
        return Table<T>.ByText.TryGetValue(text.Trim(), out value);
    }

    /// <summary>Reads a spelling; an unknown one is an error naming the allowed spellings and the closest one.</summary>
    public static T Parse<T>(string text)
        where T : struct, Enum =>
        TryParse<T>(text, out var value) ? value : throw new ArgumentException(Problem<T>(text), nameof(text));

    /// <summary><c>must be one of a, b, c</c>, with <c>(did you mean 'b'?)</c> when a spelling is close.</summary>
    public static string Problem<T>(string text)
        where T : struct, Enum => OneOf(Table<T>.Spellings, text);

    internal static string OneOf(IReadOnlyList<string> allowed, string text)
    {
        var suggestion = ConfigCatalog.Closest(text.Trim().ToLowerInvariant(), allowed.Select(a => a.ToLowerInvariant()));
        var hint = suggestion is null ? "" : $" (did you mean '{allowed.First(a => a.Equals(suggestion, StringComparison.OrdinalIgnoreCase))}'?)";
        return "must be one of " + string.Join(", ", allowed) + hint;
    }

    /// <summary><c>ScopedSecret</c> → <c>scoped_secret</c>.</summary>
    public static string SnakeCase(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var b = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                b.Append('_');
            }
            b.Append(char.ToLowerInvariant(name[i]));
        }
        return b.ToString();
    }

    private static class Table<T>
        where T : struct, Enum
    {
        public static readonly ImmutableArray<T> Values = [.. Enum.GetValues<T>()];
        public static readonly ImmutableArray<string> Spellings =
            [.. Values.Select(v => s_exceptions.TryGetValue(v, out var s) ? s : SnakeCase(v.ToString()))];
        public static readonly FrozenDictionary<string, T> ByText =
            Values.Select((v, i) => (v, i)).ToFrozenDictionary(p => Spellings[p.i], p => p.v, StringComparer.OrdinalIgnoreCase);
    }
}
