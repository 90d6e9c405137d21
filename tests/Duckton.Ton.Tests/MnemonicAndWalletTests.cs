using Duckton.Core.Crypto;
using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;
using Duckton.Ton.Mnemonics;
using Duckton.Ton.Wallets;

namespace Duckton.Ton.Tests;

public class MnemonicAndWalletTests
{
    [Fact]
    public void A_generated_mnemonic_is_valid_and_gives_a_stable_key()
    {
        var words = TonMnemonic.Generate();
        Assert.Equal(24, words.Length);
        TonMnemonic.Validate(words);
        using var a = TonMnemonic.ToKey(words);
        using var b = TonMnemonic.ToKey(words);
        Assert.Equal(a.PublicKey.ToArray(), b.PublicKey.ToArray());
    }

    [Fact]
    public void A_wrong_word_is_named_by_position_and_never_echoed()
    {
        var words = TonMnemonic.Generate();
        var bad = (string[])words.Clone();
        bad[4] = "notaword";
        var e = Assert.Throws<TonMnemonicException>(() => TonMnemonic.ToKey(bad));
        const string Expected = "word 5 of 24 is not in the BIP-39 English word list";
        Assert.Equal(Expected, e.Message);
        // The message is fixed text; a generated word can itself be "word" or "list", so only the others are looked for.
        foreach (var w in bad.Where(w => !Expected.Contains(w, StringComparison.OrdinalIgnoreCase)))
        {
            Assert.DoesNotContain(w, e.Message, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Contains("24 words, got 23", Assert.Throws<TonMnemonicException>(() => TonMnemonic.Validate(words[..23])).Message);
    }

    [Fact]
    public void Valid_words_that_fail_the_ton_checksum_are_refused()
    {
        var words = TonMnemonic.Generate();
        // Swapping words almost always breaks the checksum (1 in 256 passes); find a swap that does.
        for (var i = 1; i < 24; i++)
        {
            var swapped = (string[])words.Clone();
            (swapped[0], swapped[i]) = (swapped[i], swapped[0]);
            if (swapped[0] == swapped[i])
            {
                continue;
            }
            try
            {
                TonMnemonic.Validate(swapped);
            }
            catch (TonMnemonicException e)
            {
                Assert.Contains("checksum failed", e.Message);
                return;
            }
        }
        Assert.Fail("no swap broke the checksum");
    }

    [Fact]
    public void Wallet_id_matches_the_well_known_mainnet_value()
    {
        // 2147483409 = 0x7FFFFF11, the default v5r1 wallet id on mainnet (workchain 0, subwallet 0).
        Assert.Equal(2147483409, WalletV5R1.ComputeWalletId(TonNetworkId.Mainnet, 0, 0));
        Assert.Equal("20834b7b72b112147e1b2fb457b84e74d1a30f04f737d4f62a668e9552d2b72f", WalletV5R1.Code.HashHex);
    }

    [Fact]
    public void A_signed_transfer_verifies_and_deploys_only_at_seqno_zero()
    {
        using var key = Ed25519Key.Generate();
        var wallet = new WalletV5R1(key.PublicKey);
        var dest = new TonAddress(0, new byte[32]);
        var msgs = new[] { new OutMessage(dest, Coins.FromTon(0.1m), Bounce: false) };
        foreach (var seqno in new uint[] { 0, 1, 42 })
        {
            var body = wallet.CreateSignedBody(key, seqno, 1_900_000_000, msgs);
            var s = body.BeginParse();
            Assert.Equal(WalletV5R1.AuthSignedExternal, s.LoadUInt(32));
            Assert.Equal(wallet.WalletId, (int)s.LoadInt(32));
            Assert.Equal(1_900_000_000UL, s.LoadUInt(32));
            Assert.Equal(seqno, (uint)s.LoadUInt(32));
            var unsignedBits = body.BitLength - 512;
            var unsignedCell = new CellBuilder().StoreBits(body.BeginParse().PreloadBits(unsignedBits), unsignedBits);
            foreach (var r in body.Refs)
            {
                unsignedCell.StoreRef(r);
            }
            var tail = body.BeginParse();
            tail.LoadBigUInt(unsignedBits);
            var signature = tail.LoadBytes(64);
            Assert.True(Ed25519Key.Verify(key.PublicKey, unsignedCell.EndCell().Hash, signature));

            var ext = wallet.CreateTransfer(key, seqno, 1_900_000_000, msgs).BeginParse();
            Assert.Equal(0b10UL, ext.LoadUInt(2));
            Assert.Null(ext.LoadAddress());
            Assert.Equal(wallet.Address, ext.LoadAddress());
            ext.LoadCoins();
            Assert.Equal(seqno == 0, ext.LoadBit());
        }
        using var other = Ed25519Key.Generate();
        Assert.Throws<ArgumentException>(() => wallet.CreateSignedBody(other, 1, 1, msgs));
    }

    [Fact]
    public void Contract_addresses_are_the_hash_of_code_and_data()
    {
        var code = new CellBuilder().StoreUInt(0xFF00, 16).EndCell();
        var data1 = new CellBuilder().StoreUInt(1, 32).EndCell();
        var data2 = new CellBuilder().StoreUInt(2, 32).EndCell();
        var a1 = new StateInit(code, data1).Address();
        Assert.Equal(a1, new StateInit(code, new CellBuilder().StoreUInt(1, 32).EndCell()).Address());
        Assert.NotEqual(a1, new StateInit(code, data2).Address());
        Assert.Equal(-1, new StateInit(code, data1).Address(-1).Workchain);
        Assert.Equal(a1.Hash.ToArray(), new StateInit(code, data1).Address(-1).Hash.ToArray());
    }
}
