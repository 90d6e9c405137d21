using Duckton.Core.Crypto;
using Duckton.Core.Protocol;
using Duckton.Core.Trust;

namespace Duckton.Core.Tests.Trust;

/// <summary>Stake factor and its reliability gate, price quotes, and the price fields of the job protocol.</summary>
public sealed class MarketTests
{
    private const string JobId = "00112233445566778899aabbccddeeff";
    private static readonly string Hash = new('a', 64);

    [Fact]
    public void Stake_factor_is_log_scaled_and_3400_ton_gives_0_71()
    {
        // ln(1 + 3400) / ln(1 + 100000) with the defaults (base 1 TON when min_stake is 0, cap 100000 TON).
        Assert.Equal(0.71, StakeFactor.Compute(3400, 0, 100_000), 0.005);
        Assert.Equal(0, StakeFactor.Compute(0, 0, 100_000));
        Assert.Equal(1, StakeFactor.Compute(250_000, 0, 100_000)); // beyond the cap adds nothing
        // Diminishing: ten times the stake is far from ten times the factor.
        Assert.True(StakeFactor.Compute(34_000, 0, 100_000) < 1.3 * StakeFactor.Compute(3400, 0, 100_000));
        // The base is min_stake when set: 100 TON at base 100 is ln 2 / ln(1 + 1000).
        Assert.Equal(Math.Log(2) / Math.Log(1001), StakeFactor.Compute(100, 100, 100_000), 1e-12);
    }

    [Fact]
    public void Stake_counts_in_selection_only_above_the_reliability_floor()
    {
        Assert.Equal(0, StakeFactor.ReliabilityGate(0.5, 0.5));
        Assert.Equal(0, StakeFactor.ReliabilityGate(0.1, 0.5)); // a newcomer (bootstrap reputation): stake buys nothing
        Assert.Equal(0.5, StakeFactor.ReliabilityGate(0.75, 0.5), 1e-12);
        Assert.Equal(1, StakeFactor.ReliabilityGate(1, 0.5));
        var stake = StakeFactor.Compute(3400, 0, 100_000);
        var w = SelectionWeights.Default;
        var unreliable = SelectionScore.Compute(new SelectionInputs { EffectiveTrust = 0.5, Reliability = 0.45, StakeFactor = stake }, w);
        var unstaked = SelectionScore.Compute(new SelectionInputs { EffectiveTrust = 0.5, Reliability = 0.45, StakeFactor = 0 }, w);
        Assert.Equal(unstaked, unreliable); // below the floor the stake is invisible
        var reliable = SelectionScore.Compute(new SelectionInputs { EffectiveTrust = 0.5, Reliability = 0.95, StakeFactor = stake }, w);
        var reliableUnstaked = SelectionScore.Compute(new SelectionInputs { EffectiveTrust = 0.5, Reliability = 0.95, StakeFactor = 0 }, w);
        Assert.True(reliable > reliableUnstaked);
    }

    [Fact]
    public void A_quote_caps_and_bills_a_job()
    {
        var fixedQuote = new PriceQuote(WirePriceModel.Fixed, 2 * PriceQuote.NanotonPerTon);
        Assert.Equal(2 * PriceQuote.NanotonPerTon, fixedQuote.JobCap(30_000));
        Assert.Equal(2 * PriceQuote.NanotonPerTon, fixedQuote.Bill(30_000, 10));
        var metered = new PriceQuote(WirePriceModel.Metered, 1000);
        Assert.Equal(30_000UL, metered.JobCap(30_000));
        Assert.Equal(1000UL, metered.Bill(30_000, 1)); // a started second
        Assert.Equal(3000UL, metered.Bill(30_000, 2_000_001));
        Assert.Equal(30_000UL, metered.Bill(30_000, 999_000_000)); // never above the cap
        Assert.Equal(ulong.MaxValue, new PriceQuote(WirePriceModel.Metered, ulong.MaxValue / 2).JobCap(10_000)); // saturates
        Assert.Equal("2 TON per job", fixedQuote.ToString());
        Assert.Equal("1.5 TON", PriceQuote.Describe(1_500_000_000));
    }

    [Fact]
    public void Price_fields_round_trip_and_free_frames_keep_their_old_bytes()
    {
        var offer = new OfferMessage(JobId, Hash, WireDataClass.Public, 7, 1 << 30, 2, "", [], []);
        var paidOffer = offer with { Paid = true, MaxBidNanoton = 5 * PriceQuote.NanotonPerTon };
        Assert.Equal(offer.Encode().Length + 9, paidOffer.Encode().Length);
        var decoded = OfferMessage.Decode(paidOffer.Encode());
        Assert.True(decoded.Paid);
        Assert.Equal(5 * PriceQuote.NanotonPerTon, decoded.MaxBidNanoton);
        Assert.False(OfferMessage.Decode(offer.Encode()).Paid);
        // A payment byte other than 1 is refused, and so is a truncated one: the decoder stays bounded.
        var bad = paidOffer.Encode();
        bad[offer.Encode().Length] = 2;
        Assert.Throws<ProtocolException>(() => OfferMessage.Decode(bad));
        Assert.Throws<ProtocolException>(() => OfferMessage.Decode(paidOffer.Encode()[..^3]));

        var bid = new BidMessage(JobId, 1, 2, 3, 0, 10);
        var quoted = bid with { Quote = new PriceQuote(WirePriceModel.Metered, 1234) };
        Assert.Equal(bid.Encode().Length + 4 + 9, quoted.Encode().Length); // empty evidence (length 0), then the quote
        Assert.Equal(new PriceQuote(WirePriceModel.Metered, 1234), BidMessage.Decode(quoted.Encode()).Quote);
        Assert.Null(BidMessage.Decode(bid.Encode()).Quote);
        var withEvidence = quoted with { Evidence = [1, 2, 3] };
        var back = BidMessage.Decode(withEvidence.Encode());
        Assert.Equal([1, 2, 3], back.Evidence);
        Assert.Equal(1234UL, back.Quote!.Value.UnitNanoton);
        var badModel = quoted.Encode();
        badModel[bid.Encode().Length + 4] = 9;
        Assert.Throws<ProtocolException>(() => BidMessage.Decode(badModel));

        var dispatch = new DispatchMessage(JobId, Hash, "SELECT 1", 1, 1, 30_000, 0, []);
        Assert.Null(DispatchMessage.Decode(dispatch.Encode()).AgreedPriceNanoton);
        Assert.Equal(77UL, DispatchMessage.Decode((dispatch with { AgreedPriceNanoton = 77 }).Encode()).AgreedPriceNanoton);

        // A free dispatch may ask for its rows with the commit (4 bytes); a paid one cannot (its rows wait for the escrow).
        Assert.Equal(0u, DispatchMessage.Decode(dispatch.Encode()).InlineLimit);
        var inline = DispatchMessage.Decode((dispatch with { InlineLimit = 65_536 }).Encode());
        Assert.Equal((65_536u, (ulong?)null), (inline.InlineLimit, inline.AgreedPriceNanoton));
        Assert.Equal(dispatch.Encode().Length + 4, (dispatch with { InlineLimit = 1 }).Encode().Length);
        Assert.Throws<InvalidOperationException>(() => (dispatch with { InlineLimit = 1, AgreedPriceNanoton = 77 }).Encode());
        Assert.Throws<ProtocolException>(() => DispatchMessage.Decode([.. dispatch.Encode(), 0, 0, 0, 0]));     // a zero limit is written by leaving it out
        Assert.Throws<ProtocolException>(() => DispatchMessage.Decode([.. dispatch.Encode(), 1, 0, 0, 0, 0, 0])); // neither field's length
    }

    [Fact]
    public void The_claimed_price_is_signed_and_a_free_commit_is_unchanged()
    {
        using var key = Ed25519Key.Generate();
        var commit = new CommitMessage(JobId, Hash, "b3:" + new string('0', 64), key.PublicKey.ToArray(), [], Hash, 1, [1, 2], 500);
        var free = commit.SignWith(b => key.Sign(b));
        var paid = (commit with { ClaimedPriceNanoton = 3 * PriceQuote.NanotonPerTon }).SignWith(b => key.Sign(b));
        Assert.Equal(free.Encode().Length + 8, paid.Encode().Length);
        var back = CommitMessage.Decode(paid.Encode());
        Assert.Equal(3 * PriceQuote.NanotonPerTon, back.ClaimedPriceNanoton);
        Assert.True(back.VerifySignature());
        Assert.Equal(0UL, CommitMessage.Decode(free.Encode()).ClaimedPriceNanoton);
        // Claiming another price under the same signature does not verify: the claim is bound to the host's key.
        Assert.False((back with { ClaimedPriceNanoton = 1 }).VerifySignature());
        Assert.False((back with { ClaimedPriceNanoton = 0 }).VerifySignature());
    }
}
