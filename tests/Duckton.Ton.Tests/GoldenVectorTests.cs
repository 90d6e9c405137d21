using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Duckton.Core.Crypto;
using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;
using Duckton.Ton.Mnemonics;
using Duckton.Ton.Wallets;

namespace Duckton.Ton.Tests;

/// <summary>Every value here is compared byte for byte with what @ton/core / @ton/crypto / @ton/ton produced (vectors/emit.cjs).</summary>
public class GoldenVectorTests
{
    private static Cell BuildTree(JsonElement node)
    {
        var b = new CellBuilder();
        b.StoreBits(Convert.FromHexString(node.GetProperty("bits").GetString()!), node.GetProperty("length").GetInt32());
        foreach (var r in node.GetProperty("refs").EnumerateArray())
        {
            b.StoreRef(BuildTree(r));
        }
        return b.EndCell();
    }

    private static string Hex(byte[] b) => Convert.ToHexStringLower(b);

    [Fact]
    public void Cells_hashes_depths_and_bags_equal_ton_core()
    {
        var cells = GoldenVectors.Root.GetProperty("cells");
        Assert.True(cells.GetArrayLength() >= 40);
        foreach (var v in cells.EnumerateArray())
        {
            var cell = BuildTree(v.GetProperty("tree"));
            Assert.Equal(v.GetProperty("hash").GetString(), cell.HashHex);
            Assert.Equal(v.GetProperty("depth").GetInt32(), cell.Depth);
            Assert.Equal(v.GetProperty("boc").GetString(), Hex(BagOfCells.Serialize(cell)));
            Assert.Equal(v.GetProperty("bocIdx").GetString(), Hex(BagOfCells.Serialize(cell, withCrc32C: false, withIndex: true)));
            // Their bytes parse back to the same cell, with and without the index.
            Assert.Equal(cell, BagOfCells.ParseSingle(Convert.FromHexString(v.GetProperty("boc").GetString()!)));
            Assert.Equal(cell, BagOfCells.ParseSingle(Convert.FromHexString(v.GetProperty("bocIdx").GetString()!)));
        }
    }

    [Fact]
    public void A_300_deep_chain_equals_ton_core()
    {
        var v = GoldenVectors.Root.GetProperty("deepChain");
        var chain = new CellBuilder().StoreUInt(7, 3).EndCell();
        for (var i = 0; i < 300; i++)
        {
            chain = new CellBuilder().StoreUInt((ulong)i, 16).StoreRef(chain).EndCell();
        }
        Assert.Equal(v.GetProperty("hash").GetString(), chain.HashHex);
        Assert.Equal(v.GetProperty("boc").GetString(), Hex(BagOfCells.Serialize(chain)));
        Assert.Equal(300, chain.Depth);
    }

    [Fact]
    public void Dictionaries_equal_ton_core()
    {
        foreach (var v in GoldenVectors.Root.GetProperty("dicts").EnumerateArray())
        {
            var entries = v.GetProperty("entries").EnumerateArray().ToArray();
            var byAddress = entries.Select(e => new TonDictionary.Entry(TonDictionary.AddressKey(TonAddress.Parse(e.GetProperty("address").GetString()!)),
                b => b.StoreCoins(Coins.FromNanoton(long.Parse(e.GetProperty("coins").GetString()!, System.Globalization.CultureInfo.InvariantCulture))))).ToArray();
            Assert.Equal(v.GetProperty("byAddress").GetString(), Hex(BagOfCells.Serialize(TonDictionary.DictionaryCell(267, byAddress))));
            var candidates = entries.Select(e => TonAddress.Parse(e.GetProperty("address").GetString()!)).ToArray();
            Assert.Equal(v.GetProperty("flags").GetString(), Hex(BagOfCells.Serialize(Contracts.JobEscrow.CandidatesCell(candidates))));
            // Later entries with the same key replace earlier ones, as Dictionary.set does.
            var byEpoch = entries.GroupBy(e => e.GetProperty("epoch").GetUInt32()).Select(g => g.Last())
                .Select(e => new TonDictionary.Entry(TonDictionary.UIntKey(e.GetProperty("epoch").GetUInt32(), 32),
                    b => b.StoreBytes(Convert.FromHexString(e.GetProperty("hash").GetString()!)))).ToArray();
            Assert.Equal(v.GetProperty("byEpoch").GetString(), Hex(BagOfCells.Serialize(TonDictionary.DictionaryCell(32, byEpoch))));
        }
    }

    [Fact]
    public void Addresses_in_every_form_equal_ton_core()
    {
        foreach (var v in GoldenVectors.Root.GetProperty("addresses").EnumerateArray())
        {
            var a = TonAddress.Parse(v.GetProperty("raw").GetString()!);
            Assert.Equal(v.GetProperty("raw").GetString(), a.ToRaw());
            Assert.Equal(v.GetProperty("bounceable").GetString(), a.ToFriendly());
            Assert.Equal(v.GetProperty("nonBounceable").GetString(), a.ToFriendly(bounceable: false));
            Assert.Equal(v.GetProperty("testBounceable").GetString(), a.ToFriendly(testnet: true));
            Assert.Equal(v.GetProperty("testNonBounceableStd").GetString(), a.ToFriendly(bounceable: false, testnet: true, urlSafe: false));
            Assert.Equal(v.GetProperty("cell").GetString(), Hex(BagOfCells.Serialize(new CellBuilder().StoreAddress(a).EndCell())));

            Assert.Equal(a, TonAddress.Parse(v.GetProperty("testNonBounceableStd").GetString()!, out var flags));
            Assert.Equal(new FriendlyFlags(Bounceable: false, Testnet: true, UrlSafe: false), flags);
            Assert.Equal(a, TonAddress.Parse(v.GetProperty("bounceable").GetString()!, out flags));
            Assert.True(flags!.Value.Bounceable);
            Assert.False(flags.Value.Testnet);
            var parsed = BagOfCells.ParseSingle(Convert.FromHexString(v.GetProperty("cell").GetString()!)).BeginParse();
            Assert.Equal(a, parsed.LoadAddress());
            parsed.EndParse();
        }
    }

    [Fact]
    public void Coins_and_integers_encode_as_ton_core()
    {
        foreach (var v in GoldenVectors.Root.GetProperty("coins").EnumerateArray())
        {
            var amount = Coins.FromNanoton(BigInteger.Parse(v.GetProperty("value").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
            var cell = new CellBuilder().StoreCoins(amount).EndCell();
            Assert.Equal(v.GetProperty("boc").GetString(), Hex(BagOfCells.Serialize(cell)));
            Assert.Equal(amount, cell.BeginParse().LoadCoins());
        }
        foreach (var v in GoldenVectors.Root.GetProperty("ints").EnumerateArray())
        {
            var value = BigInteger.Parse(v.GetProperty("value").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            var bits = v.GetProperty("bits").GetInt32();
            var signed = v.GetProperty("signed").GetBoolean();
            var cell = signed ? new CellBuilder().StoreBigInt(value, bits).EndCell() : new CellBuilder().StoreBigUInt(value, bits).EndCell();
            Assert.Equal(v.GetProperty("boc").GetString(), Hex(BagOfCells.Serialize(cell)));
            Assert.Equal(value, signed ? cell.BeginParse().LoadBigInt(bits) : cell.BeginParse().LoadBigUInt(bits));
        }
    }

    [Fact]
    public void Mnemonic_gives_the_same_entropy_seed_and_public_key_as_ton_crypto()
    {
        var v = GoldenVectors.Root.GetProperty("mnemonic");
        var words = v.GetProperty("words").EnumerateArray().Select(w => w.GetString()!).ToArray();
        Assert.Equal(v.GetProperty("entropy").GetString(), Hex(TonMnemonic.Entropy(words)));
        Assert.Equal(v.GetProperty("seed").GetString(), Hex(TonMnemonic.ToSeed(words)));
        using var key = TonMnemonic.ToKey(words);
        Assert.Equal(v.GetProperty("publicKey").GetString(), Hex(key.PublicKey.ToArray()));
        // Upper case and stray spaces are normalised as @ton/crypto does.
        using var key2 = TonMnemonic.ToKey(TonMnemonic.Split("  " + string.Join("   ", words).ToUpperInvariant() + "\n"));
        Assert.Equal(v.GetProperty("publicKey").GetString(), Hex(key2.PublicKey.ToArray()));
    }

    [Fact]
    public void The_embedded_word_list_is_the_one_ton_crypto_ships()
    {
        var v = GoldenVectors.Root.GetProperty("wordlist");
        Assert.Equal(v.GetProperty("count").GetInt32(), TonMnemonic.WordList.Count);
        Assert.Equal(v.GetProperty("sha256").GetString(), Hex(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', TonMnemonic.WordList)))));
    }

    [Fact]
    public void Wallet_v5r1_state_init_address_and_signed_transfers_equal_ton_ton()
    {
        foreach (var v in GoldenVectors.Root.GetProperty("wallets").EnumerateArray())
        {
            using var key = Ed25519Key.FromSeed(Convert.FromHexString(v.GetProperty("seed").GetString()!));
            Assert.Equal(v.GetProperty("publicKey").GetString(), Hex(key.PublicKey.ToArray()));
            var wallet = new WalletV5R1(key.PublicKey, v.GetProperty("workchain").GetInt32(), v.GetProperty("networkGlobalId").GetInt32());
            Assert.Equal(v.GetProperty("code").GetString(), Hex(BagOfCells.Serialize(WalletV5R1.Code)));
            Assert.Equal(v.GetProperty("codeHash").GetString(), WalletV5R1.Code.HashHex);
            Assert.Equal(v.GetProperty("data").GetString(), Hex(BagOfCells.Serialize(wallet.StateInit.Data)));
            Assert.Equal(v.GetProperty("stateInit").GetString(), Hex(BagOfCells.Serialize(wallet.StateInit.ToCell())));
            Assert.Equal(v.GetProperty("address").GetString(), wallet.Address.ToRaw());
            foreach (var t in v.GetProperty("transfers").EnumerateArray())
            {
                var dest = TonAddress.Parse(t.GetProperty("dest").GetString()!);
                var messages = new[]
                {
                    new OutMessage(dest, Coins.FromNanoton(1_500_000_000L), Bounce: false, Body: TonMessages.Comment("hello")),
                    new OutMessage(wallet.Address, Coins.FromNanoton(1L), Bounce: true,
                        Body: new CellBuilder().StoreUInt(0x45534300, 32).StoreUInt(42, 64).EndCell()),
                };
                var seqno = t.GetProperty("seqno").GetUInt32();
                var validUntil = t.GetProperty("validUntil").GetUInt32();
                var body = wallet.CreateSignedBody(key, seqno, validUntil, messages);
                Assert.Equal(t.GetProperty("body").GetString(), Hex(BagOfCells.Serialize(body)));
                var message = wallet.CreateTransfer(key, seqno, validUntil, messages);
                Assert.Equal(t.GetProperty("message").GetString(), Hex(BagOfCells.Serialize(message)));
                Assert.Equal(t.GetProperty("messageHash").GetString(), message.HashHex);
            }
        }
    }
}
