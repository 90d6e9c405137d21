using Duckton.Core.Crypto;

namespace Duckton.Core.Tests.Crypto;

public class Ed25519Tests
{
    [Fact]
    public void Rfc8032_test_vector_1()
    {
        using var key = Ed25519Key.FromSeed(Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
        Assert.Equal("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", Convert.ToHexStringLower(key.PublicKey));
        var sig = key.Sign([]);
        Assert.Equal("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b", Convert.ToHexStringLower(sig));
        Assert.True(Ed25519Key.Verify(key.PublicKey, [], sig));
    }

    [Fact]
    public void Tampered_messages_signatures_and_keys_fail_verification()
    {
        using var key = Ed25519Key.Generate();
        using var other = Ed25519Key.Generate();
        var msg = "commit job=1 hash=abc"u8.ToArray();
        var sig = key.Sign(msg);
        Assert.True(Ed25519Key.Verify(key.PublicKey, msg, sig));
        var badMsg = (byte[])msg.Clone();
        badMsg[0] ^= 1;
        Assert.False(Ed25519Key.Verify(key.PublicKey, badMsg, sig));
        var badSig = (byte[])sig.Clone();
        badSig[10] ^= 0x80;
        Assert.False(Ed25519Key.Verify(key.PublicKey, msg, badSig));
        Assert.False(Ed25519Key.Verify(other.PublicKey, msg, sig));
        Assert.False(Ed25519Key.Verify(key.PublicKey[..31], msg, sig));
        Assert.False(Ed25519Key.Verify(key.PublicKey, msg, sig.AsSpan(0, 63)));
    }

    [Fact]
    public void A_key_recreated_from_its_seed_is_the_same_key()
    {
        using var key = Ed25519Key.Generate();
        using var again = Ed25519Key.FromSeed(key.Seed);
        Assert.Equal(key.PublicKey.ToArray(), again.PublicKey.ToArray());
    }
}
