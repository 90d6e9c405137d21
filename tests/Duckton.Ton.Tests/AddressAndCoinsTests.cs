using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;
using FsCheck;
using FsCheck.Fluent;

namespace Duckton.Ton.Tests;

public class AddressAndCoinsTests
{
    private static readonly Config s_config = Config.QuickThrowOnFailure.WithMaxTest(300).WithQuietOnSuccess(true);

    private static Arbitrary<(int Workchain, byte[] Hash, bool Bounceable, bool Testnet, bool UrlSafe)> Addresses =>
        (from wc in Gen.Choose(-128, 127)
         from seed in Gen.Choose(0, int.MaxValue)
         from flags in Gen.Choose(0, 7)
         select (wc, RandomHash(seed), (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0)).ToArbitrary();

    private static byte[] RandomHash(int seed)
    {
        var h = new byte[32];
        new Random(seed).NextBytes(h);
        return h;
    }

    [Fact]
    public void Any_address_round_trips_through_raw_friendly_and_cell_forms()
    {
        Check.One(s_config, Prop.ForAll(Addresses, x =>
        {
            var a = new TonAddress(x.Workchain, x.Hash);
            Assert.Equal(a, TonAddress.Parse(a.ToRaw()));
            var friendly = a.ToFriendly(x.Bounceable, x.Testnet, x.UrlSafe);
            Assert.Equal(48, friendly.Length);
            Assert.Equal(a, TonAddress.Parse(friendly, out var flags));
            Assert.Equal(x.Bounceable, flags!.Value.Bounceable);
            Assert.Equal(x.Testnet, flags.Value.Testnet);
            var slice = new CellBuilder().StoreAddress(a).EndCell().BeginParse();
            Assert.Equal(a, slice.LoadAddress());
            slice.EndParse();
        }));
    }

    [Fact]
    public void Any_single_character_change_of_a_friendly_address_is_refused()
    {
        var a = new TonAddress(0, RandomHash(3));
        var friendly = a.ToFriendly();
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (var i = 0; i < friendly.Length; i++)
        {
            var c = alphabet[(alphabet.IndexOf(friendly[i], StringComparison.Ordinal) + 1) % alphabet.Length];
            var bad = friendly[..i] + c + friendly[(i + 1)..];
            var e = Assert.Throws<TonFormatException>(() => TonAddress.Parse(bad));
            Assert.Contains(e.Message.Contains("checksum", StringComparison.Ordinal) ? "bad checksum" : "tag", e.Message);
        }
    }

    [Fact]
    public void Malformed_addresses_name_the_problem()
    {
        Assert.Contains("48 characters", Assert.Throws<TonFormatException>(() => TonAddress.Parse("EQabc")).Message);
        Assert.Contains("64 hex digits", Assert.Throws<TonFormatException>(() => TonAddress.Parse("0:abcd")).Message);
        Assert.Contains("not hexadecimal", Assert.Throws<TonFormatException>(() => TonAddress.Parse("0:" + new string('g', 64))).Message);
        Assert.Contains("int8", Assert.Throws<TonFormatException>(() => TonAddress.Parse("300:" + new string('a', 64))).Message);
        var friendly = new TonAddress(0, RandomHash(1)).ToFriendly(urlSafe: false);
        var mixed = friendly[..10] + "-" + friendly[11..];
        if (friendly.Contains('+', StringComparison.Ordinal) || friendly.Contains('/', StringComparison.Ordinal))
        {
            Assert.Contains("mixes", Assert.Throws<TonFormatException>(() => TonAddress.Parse(mixed)).Message);
        }
        Assert.False(TonAddress.TryParse("nonsense", out _));
    }

    [Fact]
    public void Negative_and_overflowing_amounts_are_refused()
    {
        Assert.Contains("negative", Assert.Throws<TonFormatException>(() => Coins.FromNanoton(-1L)).Message);
        Assert.Contains("negative", Assert.Throws<TonFormatException>(() => Coins.FromTon(-0.5m)).Message);
        Assert.Contains("negative", Assert.Throws<TonFormatException>(() => Coins.ParseTon("-1")).Message);
        Assert.Contains("2^120", Assert.Throws<TonFormatException>(() => Coins.FromNanoton(System.Numerics.BigInteger.One << 120)).Message);
        Assert.Contains("2^120", Assert.Throws<TonFormatException>(() => Coins.FromNanoton(UInt128.MaxValue)).Message);
        Assert.Contains("more than 9 decimals", Assert.Throws<TonFormatException>(() => Coins.ParseTon("0.0000000001")).Message);
        Assert.Contains("more than 9 decimals", Assert.Throws<TonFormatException>(() => Coins.FromTon(0.0000000001m)).Message);
        Assert.Contains("not a TON amount", Assert.Throws<TonFormatException>(() => Coins.ParseTon("1e9")).Message);
        Assert.Throws<TonFormatException>(() => Coins.FromNanoton(1L) - Coins.FromNanoton(2L));
        Assert.Throws<TonFormatException>(() => Coins.FromNanoton(Coins.MaxNanoton) + Coins.FromNanoton(1L));
        // A 16-byte VarUInteger length nibble (only 0..15 fit) cannot come out of a cell either.
        var max = new CellBuilder().StoreCoins(Coins.FromNanoton(Coins.MaxNanoton)).EndCell();
        Assert.Equal(4 + 15 * 8, max.BitLength);
    }

    [Fact]
    public void Amounts_parse_and_print_in_ton()
    {
        Assert.Equal(1_500_000_000UL, (ulong)Coins.ParseTon("1.5").Nanoton);
        Assert.Equal(50_000_000UL, (ulong)Coins.ParseTon("0.05").Nanoton);
        Assert.Equal(1UL, (ulong)Coins.ParseTon(".000000001").Nanoton);
        Assert.Equal("1.5", Coins.FromTon(1.5m).ToTonString());
        Assert.Equal("0.000000001", Coins.FromNanoton(1L).ToTonString());
        Assert.Equal("12", Coins.FromNanoton(12_000_000_000L).ToTonString());
    }
}
