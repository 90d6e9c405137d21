using Duckton.Core.Configuration;
using Duckton.Core.Crypto;
using Duckton.Core.Protocol;

namespace Duckton.Core.Tests.Crypto;

public sealed class MembershipTokenTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_780_000_000_000);
    private static readonly string Node = "b3:" + new string('a', 64);
    private static readonly string Other = "b3:" + new string('b', 64);
    private readonly Ed25519Key _issuer = Ed25519Key.FromSeed(Enumerable.Repeat((byte)7, 32).ToArray());

    public void Dispose() => _issuer.Dispose();

    private string[] Issuers(string value) => [$"{value}={Convert.ToHexStringLower(_issuer.PublicKey)}"];

    private MembershipToken Token(string node = "", string value = "g", int fromDays = -1, int toDays = 30) =>
        MembershipToken.Issue(_issuer, MembershipKind.Group, node.Length == 0 ? Node : node, value, Now.AddDays(fromDays), Now.AddDays(toDays));

    [Fact]
    public void A_token_round_trips_through_its_text_form_and_verifies()
    {
        var t = Token();
        var parsed = MembershipToken.Parse(t.ToText());
        Assert.Equal((t.Kind, t.NodeId, t.Value, t.IssuedMs, t.ExpiresMs), (parsed.Kind, parsed.NodeId, parsed.Value, parsed.IssuedMs, parsed.ExpiresMs));
        Assert.Equal(t.Encode(), parsed.Encode());
        Assert.StartsWith("dkt1.", t.ToText());
        Assert.Null(parsed.Refusal(MembershipKind.Group, "g", Node, Issuers("g"), Now));
        Assert.Equal(2, MembershipToken.ParseList(t.ToText() + " ,\n" + Token(value: "h").ToText()).Count);
        Assert.Empty(MembershipToken.ParseList(""));
    }

    [Fact]
    public void Forged_expired_other_node_and_unlisted_tokens_are_refused()
    {
        using var forger = Ed25519Key.Generate();
        var unsigned = Token() with { Signature = [] };
        var forged = unsigned with { Signature = forger.Sign(unsigned.SignedBytes()) };
        Assert.Equal("bad token signature", MembershipToken.Parse(forged.ToText()).Refusal(MembershipKind.Group, "g", Node, Issuers("g"), Now));

        // A copy of a verified token with another signed field does not inherit the verdict.
        var verified = Token();
        Assert.True(verified.SignatureValid);
        Assert.False((verified with { Value = "admins" }).SignatureValid);
        Assert.False((verified with { ExpiresMs = verified.ExpiresMs + 1 }).SignatureValid);
        // Changing any signed field breaks the signature: here the value.
        var retargeted = MembershipToken.Parse((Token() with { Value = "admins" }).ToText());
        Assert.Equal("bad token signature", retargeted.Refusal(MembershipKind.Group, "admins", Node, Issuers("admins"), Now));

        Assert.Equal("token expired", Token(fromDays: -3, toDays: -1).Refusal(MembershipKind.Group, "g", Node, Issuers("g"), Now));
        Assert.Equal("token is not valid yet", Token(fromDays: 2).Refusal(MembershipKind.Group, "g", Node, Issuers("g"), Now));
        Assert.Equal("token was issued to another node", Token().Refusal(MembershipKind.Group, "g", Other, Issuers("g"), Now));
        Assert.StartsWith("issuer ", Token().Refusal(MembershipKind.Group, "g", Node, Issuers("h"), Now));
        Assert.StartsWith("issuer ", Token().Refusal(MembershipKind.Group, "g", Node, ["g=" + new string('0', 64)], Now));
        Assert.Equal("token is for group 'g'", Token().Refusal(MembershipKind.Region, "g", Node, Issuers("g"), Now));
        Assert.Equal("no token (self-declared)", MembershipToken.Check([], MembershipKind.Group, "g", Node, Issuers("g"), Now));
        // One valid token among bad ones proves the membership.
        Assert.Null(MembershipToken.Check([forged, Token()], MembershipKind.Group, "g", Node, Issuers("g"), Now));
    }

    [Theory]
    [InlineData("")]
    [InlineData("dkt1.")]
    [InlineData("dkt1.!!!")]
    [InlineData("dkt2.AQE")]
    [InlineData("{\"sig\":\"x\"}")]
    public void Malformed_text_is_refused(string text) =>
        Assert.Throws<FormatException>(() => MembershipToken.Parse(text));

    [Fact]
    public void The_config_keys_accept_tokens_and_refuse_anything_else()
    {
        Assert.True(ConfigKey.TryRule(StringRule.MembershipTokens, Token().ToText(), out _));
        Assert.True(ConfigKey.TryRule(StringRule.MembershipTokens, "", out _));
        Assert.False(ConfigKey.TryRule(StringRule.MembershipTokens, "very-secret-token", out _));
        Assert.False(ConfigKey.TryRule(StringRule.MembershipTokens, string.Join(' ', Enumerable.Repeat(Token().ToText(), 9)), out _));
        Assert.Equal(StringRule.MembershipTokens, ConfigCatalog.Get("membership.group_token").Rule);
        Assert.True(ConfigCatalog.Get("membership.group_token").Secret);
    }

    private static AdvertMessage Advert(byte[] publicKey) =>
        new(publicKey, "127.0.0.1:9494", 1 << 30, 4, 8, 0, true, ["default"], ["g"], "eu", 1, 0, 1_700_000_000_000, 3);

    [Fact]
    public void Adverts_carry_tokens_under_their_signature_and_stay_byte_identical_without()
    {
        using var host = Ed25519Key.Generate();
        var plain = Advert(host.PublicKey.ToArray()).SignWith(b => host.Sign(b));
        var legacy = plain.Encode();
        var decodedPlain = AdvertMessage.Decode(legacy);
        Assert.Empty(decodedPlain.Tokens);
        Assert.Null(decodedPlain.Verify(0));

        var withTokens = (Advert(host.PublicKey.ToArray()) with { Tokens = [Token(), Token(value: "h")] }).SignWith(b => host.Sign(b));
        var bytes = withTokens.Encode();
        // The token section sits between the receipt digest and the signature; without tokens nothing is written.
        Assert.Equal(legacy.Length + 1 + withTokens.Tokens.Sum(t => 4 + t.Encode().Length), bytes.Length);
        Assert.Equal(legacy.AsSpan(0, legacy.Length - 64).ToArray(), bytes.AsSpan(0, legacy.Length - 64).ToArray());
        var decoded = AdvertMessage.Decode(bytes);
        Assert.Null(decoded.Verify(0));
        Assert.Equal(["g", "h"], decoded.Tokens.Select(t => t.Value));

        // A relay cannot strip (or swap) tokens: they are under the host's advert signature.
        Assert.Equal("bad advert signature", (decoded with { Tokens = [] }).Verify(0));
        // A cut advert is refused cleanly (so is one with tokens by a decoder that predates them: trailing bytes).
        Assert.Throws<ProtocolException>(() => AdvertMessage.Decode(bytes.AsSpan(0, bytes.Length - 1)));
        var tooMany = Advert(host.PublicKey.ToArray()) with { Tokens = [.. Enumerable.Repeat(Token(), MembershipToken.MaxPerAdvert + 1)] };
        Assert.Throws<ArgumentException>(() => tooMany.SignWith(b => host.Sign(b)));
    }
}
