using Duckton.Core.Configuration;
using Duckton.Core.Crypto;
using Duckton.Core.Trust;

namespace Duckton.Core.Tests.Trust;

public class AttestationTests
{
    private static readonly byte[] Nonce = [1, 2, 3, 4, 5, 6, 7, 8];

    private static AttestationVerifier Verifier(SimulatedAttestationAuthority authority) => new(
        [authority.PublicKey],
        new Dictionary<AttestationLevel, IReadOnlySet<string>>
        {
            [AttestationLevel.L1] = new HashSet<string> { "boot-sha256:aa" },
            [AttestationLevel.L2] = new HashSet<string> { "tdx-mrtd:bb" },
        });

    [Fact]
    public void Valid_evidence_raises_the_tier_and_everything_else_falls_back_to_L0_with_a_reason()
    {
        using var authority = new SimulatedAttestationAuthority();
        using var rogue = new SimulatedAttestationAuthority();
        using var host = Ed25519Key.Generate();
        using var other = Ed25519Key.Generate();
        var verifier = Verifier(authority);
        var good = authority.Issue(AttestationLevel.L2, "tdx-mrtd:bb", Nonce, host.PublicKey).Encode();
        Assert.Equal(new AttestationVerifier.Outcome(AttestationLevel.L2, null), verifier.Verify(AttestationLevel.L2, good, Nonce, host.PublicKey));

        Assert.Contains("nonce", verifier.Verify(AttestationLevel.L2, good, [9, 9], host.PublicKey).Problem);
        Assert.Contains("another key", verifier.Verify(AttestationLevel.L2, good, Nonce, other.PublicKey).Problem);
        Assert.Contains("claim", verifier.Verify(AttestationLevel.L1, good, Nonce, host.PublicKey).Problem);
        Assert.Contains("allowlisted", verifier.Verify(AttestationLevel.L2, authority.Issue(AttestationLevel.L2, "tdx-mrtd:evil", Nonce, host.PublicKey).Encode(), Nonce, host.PublicKey).Problem);
        Assert.Contains("does not trust", verifier.Verify(AttestationLevel.L2, rogue.Issue(AttestationLevel.L2, "tdx-mrtd:bb", Nonce, host.PublicKey).Encode(), Nonce, host.PublicKey).Problem);
        var tampered = (byte[])good.Clone();
        tampered[^1] ^= 1;
        Assert.Equal("bad authority signature", verifier.Verify(AttestationLevel.L2, tampered, Nonce, host.PublicKey).Problem);
        Assert.Equal("malformed evidence", verifier.Verify(AttestationLevel.L2, good.AsSpan(0, 20), Nonce, host.PublicKey).Problem);
        Assert.Equal(AttestationLevel.L0, verifier.Verify(AttestationLevel.L2, tampered, Nonce, host.PublicKey).Level);
    }
}
