using Duckton.Core.Configuration;

namespace Duckton.Node;

/// <summary>Per-call settings of <c>p2p_query</c>; null means "use the node's configuration".</summary>
public sealed record QueryOverrides
{
    public int? Replicas { get; init; }
    public int? Quorum { get; init; }
    public double? MinTrust { get; init; }
    public string? MinAttestation { get; init; }
    public VerifyMode? Verify { get; init; }
    public PlannerPreference? Prefer { get; init; }
    public PaymentMode? Payment { get; init; }
    public DataClass? DataClass { get; init; }
    public bool? RequireStakedHosts { get; init; }
    public string? Network { get; init; }
    public IReadOnlyList<string>? Groups { get; init; }
    public IReadOnlyList<string>? Regions { get; init; }
    public IReadOnlyList<string>? Nodes { get; init; }
    public int? TimeoutMs { get; init; }

    /// <summary>Input fingerprint (64 hex digits, from <c>p2p_query_meta</c>'s <c>input_fingerprint</c>) hosts must be reading.</summary>
    public string? InputPin { get; init; }

    /// <summary>
    /// The layer that set the min_trust in force for this query (filled in by the node): anything but the built-in
    /// default makes it a hard floor (no probationary newcomers).
    /// </summary>
    internal ConfigSource MinTrustSource { get; init; }

    public static QueryOverrides None { get; } = new();

    /// <summary>Parses an enum-valued override (the configuration spellings), naming the parameter and the allowed values when the text is not one of them.</summary>
    public static T ParseEnum<T>(string parameter, string text)
        where T : struct, Enum
    {
        if (ConfigEnum.TryParse<T>(text, out var value))
        {
            return value;
        }
        throw new ArgumentException($"{parameter} => '{text}' is not valid; use one of {string.Join("|", ConfigEnum.Spellings<T>())}");
    }

    /// <summary>
    /// The overrides that are configuration keys, as per-call layer entries; the node validates them together with
    /// every other layer, so a per-call value meets the same rules and messages as a configured one.
    /// </summary>
    public IEnumerable<KeyValuePair<string, string>> ToConfigLayer()
    {
        static string Text(IFormattable v) => v.ToString(null, System.Globalization.CultureInfo.InvariantCulture);
        if (Replicas is { } r)
        {
            yield return new("scheduler.replicas", Text(r));
        }
        if (Quorum is { } q)
        {
            yield return new("scheduler.quorum", Text(q));
        }
        if (MinTrust is { } t)
        {
            yield return new("trust.min_trust", Text(t));
        }
        if (MinAttestation is { } a)
        {
            yield return new("trust.min_attestation", a.Trim().ToUpperInvariant());
        }
        if (Verify is { } v)
        {
            yield return new("scheduler.verify_mode", v.ToConfigString());
        }
        if (Prefer is { } p)
        {
            yield return new("planner.prefer", p.ToConfigString());
        }
        if (Payment is { } pay)
        {
            yield return new("economics.default_payment", pay.ToConfigString());
        }
        if (RequireStakedHosts is { } staked)
        {
            yield return new("scheduler.require_staked_hosts", staked ? "true" : "false");
        }
    }

    /// <summary>Checks ranges that do not depend on the node's configuration.</summary>
    public void Validate()
    {
        if (Replicas is < 1 or > 64)
        {
            throw new ArgumentException($"replicas => {Replicas} is out of range; use 1..64");
        }
        if (Quorum is < 1 or > 64)
        {
            throw new ArgumentException($"quorum => {Quorum} is out of range; use 1..64");
        }
        if (Replicas is { } r && Quorum is { } q && q > r)
        {
            throw new ArgumentException($"quorum => {q} exceeds replicas => {r}; quorum must be between 1 and replicas");
        }
        if (MinTrust is < 0 or > 1 || (MinTrust is { } t && double.IsNaN(t)))
        {
            throw new ArgumentException($"min_trust => {MinTrust} is out of range; use 0.0..1.0");
        }
        if (MinAttestation is { } a && a.Trim().ToUpperInvariant() is not ("L0" or "L1" or "L2"))
        {
            throw new ArgumentException($"min_attestation => '{a}' is not valid; use L0|L1|L2");
        }
        if (InputPin is { } pin && (pin.Length != 64 || !pin.All(char.IsAsciiHexDigit)))
        {
            throw new ArgumentException($"input_pin => '{pin}' is not valid; use the 64 hex digits of an input_fingerprint from p2p_query_meta");
        }
        if (TimeoutMs is < 1)
        {
            throw new ArgumentException($"timeout_ms => {TimeoutMs} is out of range; use a positive number of milliseconds");
        }
    }
}
