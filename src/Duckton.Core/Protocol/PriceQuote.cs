namespace Duckton.Core.Protocol;

/// <summary>How a host charges, on the wire (u8).</summary>
public enum WirePriceModel : byte
{
    /// <summary>One unit price per job.</summary>
    Fixed = 0,
    /// <summary>The unit price per started second of execution.</summary>
    Metered = 1,
}

/// <summary>
/// A host's price as it quotes it in a bid: a model and a unit price in nanoton (per job, or per started second).
/// The arithmetic saturates at <see cref="ulong.MaxValue"/> rather than wrapping.
/// </summary>
public readonly record struct PriceQuote(WirePriceModel Model, ulong UnitNanoton)
{
    public const ulong NanotonPerTon = 1_000_000_000;

    /// <summary>True when the host charges nothing.</summary>
    public bool IsFree => UnitNanoton == 0;

    /// <summary>
    /// The most a job can cost under this quote when it may run for <paramref name="timeoutMs"/>: the unit price (fixed),
    /// or the unit price × the started seconds of the time bound (metered; at least one second).
    /// </summary>
    public ulong JobCap(uint timeoutMs) => Model == WirePriceModel.Fixed ? UnitNanoton : Times(UnitNanoton, StartedSeconds(timeoutMs * 1000UL));

    /// <summary>
    /// What an honest host claims for a job that ran <paramref name="execMicros"/>: the unit price (fixed), or the unit
    /// price × the started seconds it ran, never above the cap of the time bound (metered).
    /// </summary>
    public ulong Bill(uint timeoutMs, ulong execMicros) =>
        Model == WirePriceModel.Fixed ? UnitNanoton : Math.Min(JobCap(timeoutMs), Times(UnitNanoton, StartedSeconds(execMicros)));

    private static ulong StartedSeconds(ulong micros) => Math.Max(1, (micros + 999_999) / 1_000_000);

    private static ulong Times(ulong a, ulong b) => b != 0 && a > ulong.MaxValue / b ? ulong.MaxValue : a * b;

    /// <summary>Nanoton as TON text with up to nine decimals ("1.5 TON"); <see cref="ulong.MaxValue"/> is "no cap".</summary>
    public static string Describe(ulong nanoton) => nanoton == ulong.MaxValue ? "no cap"
        : (nanoton / NanotonPerTon).ToString(System.Globalization.CultureInfo.InvariantCulture)
          + (nanoton % NanotonPerTon == 0 ? "" : "." + (nanoton % NanotonPerTon).ToString("D9", System.Globalization.CultureInfo.InvariantCulture).TrimEnd('0'))
          + " TON";

    public override string ToString() => Model == WirePriceModel.Fixed ? $"{Describe(UnitNanoton)} per job" : $"{Describe(UnitNanoton)} per second (metered)";
}
