using Duckton.Core.Configuration;
using Duckton.Core.Crypto;
using Duckton.Core.Trust;

namespace Duckton.Core.Tests.Configuration;

public class AttestationConfigTests
{
    private static readonly string DemoKey = Convert.ToHexStringLower(SimulatedAttestationAuthority.Demo.PublicKey);

    [Fact]
    public void Defaults_configure_no_authority_and_no_verifier()
    {
        using var dir = new TempConfigDir();
        var c = dir.Store().Effective().Config;
        Assert.Empty(c.Trust.AttestationAuthorities);
        Assert.Empty(c.Trust.AllowedMeasurements);
        Assert.Null(AttestationVerifier.FromConfig(c.Trust.AttestationAuthorities, c.Trust.AllowedMeasurements));
    }

    [Fact]
    public void Configured_authorities_and_measurements_build_a_working_verifier()
    {
        using var dir = new TempConfigDir();
        dir.WriteConfig($"""
            [trust]
            attestation_authorities = ["{DemoKey}"]
            allowed_measurements = ["L2:{SimulatedAttestationAuthority.SimulatedMeasurement.ToUpperInvariant()}", "l1:abcd"]
            """);
        var c = dir.Store().Effective().Config;
        var verifier = AttestationVerifier.FromConfig(c.Trust.AttestationAuthorities, c.Trust.AllowedMeasurements)!;
        Assert.True(verifier.TrustsSimulatedDemoAuthority);
        Assert.Contains("abcd", verifier.AllowedMeasurements[AttestationLevel.L1]);

        using var host = Ed25519Key.Generate();
        byte[] nonce = [1, 2, 3, 4, 5, 6, 7, 8];
        var evidence = SimulatedAttestationAuthority.Demo.Issue(AttestationLevel.L2, SimulatedAttestationAuthority.SimulatedMeasurement, nonce, host.PublicKey).Encode();
        Assert.Equal(new AttestationVerifier.Outcome(AttestationLevel.L2, null), verifier.Verify(AttestationLevel.L2, evidence, nonce, host.PublicKey));
        // The L2 measurement is not allowlisted for L1.
        var l1 = SimulatedAttestationAuthority.Demo.Issue(AttestationLevel.L1, SimulatedAttestationAuthority.SimulatedMeasurement, nonce, host.PublicKey).Encode();
        Assert.Contains("not allowlisted", verifier.Verify(AttestationLevel.L1, l1, nonce, host.PublicKey).Problem);
    }

    [Theory]
    [InlineData("trust.attestation_authorities", "[\"abcd\"]")]
    [InlineData("trust.attestation_authorities", "[\"zz00000000000000000000000000000000000000000000000000000000000000\"]")]
    [InlineData("trust.allowed_measurements", "[\"L3:abcd\"]")]
    [InlineData("trust.allowed_measurements", "[\"L1:xyz0\"]")]
    [InlineData("trust.allowed_measurements", "[\"L1:abc\"]")]
    [InlineData("trust.allowed_measurements", "[\"abcd\"]")]
    [InlineData("trust.allowed_measurements", "[\"L2:\"]")]
    public void Bad_entries_are_errors_naming_the_key(string key, string value)
    {
        using var dir = new TempConfigDir();
        var error = Assert.Throws<ConfigException>(() => dir.Store().Set(key, value));
        Assert.Contains(key, error.Message);
        Assert.Contains(key.EndsWith("authorities", StringComparison.Ordinal) ? "ed25519" : "L1:<hex>", error.Message);
    }

    [Fact]
    public void Bad_entries_in_the_file_are_errors_naming_the_key()
    {
        using var dir = new TempConfigDir();
        dir.WriteConfig("""
            [trust]
            allowed_measurements = ["L9:00"]
            """);
        var error = Assert.Throws<ConfigException>(() => dir.Store().Effective());
        Assert.Contains("trust.allowed_measurements", error.Message);
    }
}
