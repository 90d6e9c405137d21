using Duckton.Core.Configuration;
using Duckton.Core.Protocol;
using Duckton.Node.Grid;

namespace Duckton.Node.Economics;

/// <summary>A host's price and a requester's bid, from the configuration (<c>economics.pricing.*</c>).</summary>
public static class Pricing
{
    /// <summary>
    /// This host's quote: <c>fixed</c> charges <c>unit_price</c> TON per job; <c>metered</c> charges
    /// <c>rate_per_second</c> nanoton per started second, or <c>unit_price</c> TON per second when that is 0.
    /// </summary>
    public static PriceQuote QuoteFor(NodeConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var p = c.Economics.Pricing;
        return p.Model == PricingModel.Fixed
            ? new PriceQuote(WirePriceModel.Fixed, TonToNanoton(p.UnitPrice))
            : new PriceQuote(WirePriceModel.Metered, p.RatePerSecond > 0 ? (ulong)p.RatePerSecond : TonToNanoton(p.UnitPrice));
    }

    /// <summary>The most this requester pays for a paid job, in nanoton: <c>max_bid</c> TON, or no cap when it is 0.</summary>
    public static ulong MaxBidNanoton(NodeConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return c.Economics.Pricing.MaxBid == 0 ? ulong.MaxValue : TonToNanoton(c.Economics.Pricing.MaxBid);
    }

    /// <summary>Whole TON to nanoton, saturating (a configured value is at most <see cref="long.MaxValue"/>).</summary>
    public static ulong TonToNanoton(long ton) => ton <= 0 ? 0 : (ulong)ton > ulong.MaxValue / PriceQuote.NanotonPerTon ? ulong.MaxValue : (ulong)ton * PriceQuote.NanotonPerTon;
}

/// <summary>
/// Whether a query is paid: the per-call <c>payment</c>, else <c>economics.default_payment</c>; <c>auto</c> makes public
/// data free and internal / sensitive data paid. With <c>economics.enabled = false</c> (the default) every job is free,
/// and asking for a paid one per call is an error rather than silently free.
/// </summary>
internal static class PaymentPolicy
{
    public static bool IsPaid(NodeConfig c, QueryOverrides overrides)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(overrides);
        if (!c.Economics.Enabled)
        {
            if (overrides.Payment == PaymentMode.Paid)
            {
                throw new GridQueryException("payment => 'paid' needs paid compute switched on (economics.enabled = true); with economics off every job is free — "
                    + "drop payment => or use payment => 'free'");
            }
            return false;
        }
        // The per-call payment is already layered into economics.default_payment (QueryOverrides.ToConfigLayer).
        return c.Economics.DefaultPayment switch
        {
            PaymentMode.Paid => true,
            PaymentMode.Free => false,
            _ => overrides.DataClass is DataClass.Internal or DataClass.Sensitive,
        };
    }

    /// <summary>
    /// The stake (whole TON) a host needs for this query: any stake for <c>require_staked_hosts</c>, at least
    /// <c>sybil.min_stake</c>; 0 = no requirement.
    /// </summary>
    public static double RequiredStakeTon(NodeConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var min = (double)c.Sybil.MinStake;
        return c.Scheduler.RequireStakedHosts ? Math.Max(min, 1e-9) : min;
    }
}
