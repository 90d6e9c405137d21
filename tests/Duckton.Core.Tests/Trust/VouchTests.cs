using Duckton.Core.Crypto;
using Duckton.Core.Protocol;
using Duckton.Core.Trust;

namespace Duckton.Core.Tests.Trust;

public class VouchTests
{
    private static Vouch Signed(Ed25519Key voucher, string vouchee, double weight = 1.0, ulong ts = 1_700_000_000_000) => new Vouch
    {
        VoucherId = NodeIds.FromPublicKey(voucher.PublicKey),
        VoucheeId = vouchee,
        WeightPpm = Vouch.ToPpm(weight),
        TimestampMs = ts,
    }.SignWith(voucher.PublicKey, b => voucher.Sign(b));

    private static string SomeNode()
    {
        using var k = Ed25519Key.Generate();
        return NodeIds.FromPublicKey(k.PublicKey);
    }

    [Fact]
    public void A_signed_vouch_round_trips_through_the_codec_and_verifies()
    {
        using var voucher = Ed25519Key.Generate();
        var vouch = Signed(voucher, SomeNode(), 0.25);
        var decoded = VouchMessage.Decode(VouchMessage.Encode(vouch));
        Assert.Equal(vouch.VoucherId, decoded.VoucherId);
        Assert.Equal(vouch.VoucheeId, decoded.VoucheeId);
        Assert.Equal(250_000UL, decoded.WeightPpm);
        Assert.Equal(0.25, decoded.Weight);
        Assert.Equal(vouch.TimestampMs, decoded.TimestampMs);
        Assert.Equal(vouch.Signature, decoded.Signature);
        Assert.Null(decoded.Problem());
    }

    [Fact]
    public void Signed_bytes_follow_the_documented_layout()
    {
        var v = new Vouch { VoucherId = "b3:" + new string('a', 64), VoucheeId = "b3:" + new string('b', 64), WeightPpm = 500_000, TimestampMs = 42 };
        var bytes = v.SignedBytes();
        var expected = new List<byte>();
        expected.AddRange("duckdb-p2p-vouch-v1"u8.ToArray());
        expected.AddRange(BitConverter.GetBytes(67UL));
        expected.AddRange(System.Text.Encoding.UTF8.GetBytes(v.VoucherId));
        expected.AddRange(BitConverter.GetBytes(67UL));
        expected.AddRange(System.Text.Encoding.UTF8.GetBytes(v.VoucheeId));
        expected.AddRange(BitConverter.GetBytes(500_000UL));
        expected.AddRange(BitConverter.GetBytes(42UL));
        Assert.Equal(expected.ToArray(), bytes);
    }

    [Fact]
    public void Forged_tampered_self_and_out_of_range_vouches_are_refused()
    {
        using var voucher = Ed25519Key.Generate();
        using var forger = Ed25519Key.Generate();
        var vouchee = SomeNode();
        var good = Signed(voucher, vouchee);
        Assert.Null(good.Problem());
        Assert.Equal("bad signature", (good with { WeightPpm = 999_999 }).Problem());
        Assert.Equal("bad signature", (good with { TimestampMs = good.TimestampMs + 1 }).Problem());
        Assert.Equal("bad signature", (good with { VoucheeId = SomeNode() }).Problem());
        // Claims the voucher's id but carries (and is signed by) another key.
        var forged = new Vouch { VoucherId = good.VoucherId, VoucheeId = vouchee, WeightPpm = 1_000_000, TimestampMs = 1 } with { VoucherPublicKey = forger.PublicKey.ToArray() };
        forged = forged with { Signature = forger.Sign(forged.SignedBytes()) };
        Assert.Equal("voucher_id is not bound to the vouch's public key", forged.Problem());
        Assert.Throws<ArgumentException>(() => new Vouch { VoucherId = good.VoucherId, VoucheeId = vouchee, WeightPpm = 1, TimestampMs = 1 }
            .SignWith(forger.PublicKey, b => forger.Sign(b)));
        var self = new Vouch { VoucherId = good.VoucherId, VoucheeId = good.VoucherId, WeightPpm = 1_000_000, TimestampMs = 1 }.SignWith(voucher.PublicKey, b => voucher.Sign(b));
        Assert.Equal("self-vouch", self.Problem());
        var heavy = new Vouch { VoucherId = good.VoucherId, VoucheeId = vouchee, WeightPpm = 1_000_001, TimestampMs = 1 }.SignWith(voucher.PublicKey, b => voucher.Sign(b));
        Assert.Equal("weight out of range", heavy.Problem());
        Assert.Equal("malformed node id", (good with { VoucheeId = "b3:XYZ" }).Problem());
        Assert.Throws<ArgumentOutOfRangeException>(() => Vouch.ToPpm(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Vouch.ToPpm(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => Vouch.ToPpm(-0.1));
    }

    [Fact]
    public void Malformed_wire_bytes_raise_protocol_errors_and_never_crash()
    {
        using var voucher = Ed25519Key.Generate();
        var wire = VouchMessage.Encode(Signed(voucher, SomeNode()));
        for (var cut = 0; cut < wire.Length; cut++)
        {
            Assert.Throws<ProtocolException>(() => VouchMessage.Decode(wire.AsSpan(0, cut)));
        }
        Assert.Throws<ProtocolException>(() => VouchMessage.Decode([.. wire, 0]));
        // A huge declared string length is refused before anything is allocated.
        var huge = (byte[])wire.Clone();
        BitConverter.GetBytes(uint.MaxValue).CopyTo(huge, 0);
        Assert.Throws<ProtocolException>(() => VouchMessage.Decode(huge));
        // Random bit flips: either a protocol error or a vouch that fails verification — never an accepted one.
        var random = new Random(7);
        for (var i = 0; i < 2000; i++)
        {
            var flipped = (byte[])wire.Clone();
            var at = random.Next(flipped.Length);
            flipped[at] ^= (byte)(1 << random.Next(8));
            try
            {
                Assert.NotNull(VouchMessage.Decode(flipped).Problem());
            }
            catch (ProtocolException)
            {
            }
        }
        for (var i = 0; i < 500; i++)
        {
            var junk = new byte[random.Next(0, 300)];
            random.NextBytes(junk);
            try
            {
                Assert.NotNull(VouchMessage.Decode(junk).Problem());
            }
            catch (ProtocolException)
            {
            }
        }
    }

    [Fact]
    public void Voucher_trust_weights_each_vouch_by_its_voucher_and_is_capped()
    {
        Assert.Equal(0, VoucherTrust.Compute([], 0.05));
        Assert.Equal(0.05, VoucherTrust.Compute([(1.0, 1.0)], 0.05), 12);
        Assert.Equal(0.05 * 0.5 * 0.8, VoucherTrust.Compute([(0.5, 0.8)], 0.05), 12);
        // A thousand full-weight vouches from zero-trust identities add nothing.
        Assert.Equal(0, VoucherTrust.Compute(Enumerable.Repeat((1.0, 0.0), 1000), 0.05));
        // No number of trusted vouches exceeds 1.
        Assert.Equal(1, VoucherTrust.Compute(Enumerable.Repeat((1.0, 1.0), 1000), 0.05));
        Assert.Equal(0.05, VoucherTrust.Compute([(1.0, 1.0), (double.NaN, 1.0), (1.0, double.PositiveInfinity)], 0.05), 12);
    }
}
