using System.Diagnostics;
using System.Text.Json;
using Duckton.Core.Crypto;
using Duckton.Core.Protocol;

namespace Duckton.Grid.Tests;

/// <summary>
/// tools/membership_token_reference.py, a verifier written from docs/PROTOCOL.md ("Membership token") alone with
/// libsodium's Ed25519, must reach the same verdict as <see cref="MembershipToken.Refusal"/> on genuine, forged,
/// expired, premature, misdirected, unlisted and tampered tokens.
/// </summary>
public sealed class MembershipTokenReferenceTests
{
    [PythonFact]
    public void The_documented_format_verifies_exactly_like_the_implementation()
    {
        using var issuer = Ed25519Key.Generate();
        using var forger = Ed25519Key.Generate();
        var now = DateTimeOffset.UtcNow;
        var node = "b3:" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var other = "b3:" + new string('e', 64);
        string[] issuers = [$"g={Convert.ToHexStringLower(issuer.PublicKey)}", $"eu={Convert.ToHexStringLower(issuer.PublicKey)}"];
        var good = MembershipToken.Issue(issuer, MembershipKind.Group, node, "g", now.AddHours(-1), now.AddDays(1));
        var unsigned = good with { Signature = [] };
        var tamperedBytes = good.Encode();
        tamperedBytes[2 + 32 + 4] ^= 1; // the value: 'g' becomes 'f'
        string[] withF = [.. issuers, $"f={Convert.ToHexStringLower(issuer.PublicKey)}"];
        var cases = new (string Token, MembershipKind Kind, string Value, string Node, string[] Issuers, string Expected)[]
        {
            (good.ToText(), MembershipKind.Group, "g", node, issuers, "valid"),
            (MembershipToken.Issue(issuer, MembershipKind.Region, node, "eu", now, now.AddDays(1)).ToText(), MembershipKind.Region, "eu", node, issuers, "valid"),
            ((unsigned with { Signature = forger.Sign(unsigned.SignedBytes()) }).ToText(), MembershipKind.Group, "g", node, issuers, "refused: bad signature"),
            ("dkt1." + Convert.ToBase64String(tamperedBytes).TrimEnd('=').Replace('+', '-').Replace('/', '_'), MembershipKind.Group, "f", node, withF, "refused: bad signature"),
            (MembershipToken.Issue(issuer, MembershipKind.Group, node, "g", now.AddDays(-3), now.AddDays(-1)).ToText(), MembershipKind.Group, "g", node, issuers, "refused: expired"),
            (MembershipToken.Issue(issuer, MembershipKind.Group, node, "g", now.AddDays(1), now.AddDays(2)).ToText(), MembershipKind.Group, "g", node, issuers, "refused: not valid yet"),
            (good.ToText(), MembershipKind.Group, "g", other, issuers, "refused: other node"),
            (good.ToText(), MembershipKind.Group, "g", node, [$"g={Convert.ToHexStringLower(forger.PublicKey)}"], "refused: issuer not listed"),
            (good.ToText(), MembershipKind.Region, "g", node, issuers, "refused: other membership"),
        };
        var input = JsonSerializer.Serialize(cases.Select(c => new Dictionary<string, object>
        {
            ["token"] = c.Token, ["kind"] = c.Kind == MembershipKind.Group ? "group" : "region", ["value"] = c.Value, ["node"] = c.Node,
            ["issuers"] = c.Issuers, ["now_ms"] = now.ToUnixTimeMilliseconds(),
        }));
        var verdicts = Run(input);
        Assert.Equal(cases.Length, verdicts.Length);
        for (var i = 0; i < cases.Length; i++)
        {
            var c = cases[i];
            Assert.Equal(c.Expected, verdicts[i]);
            var refusal = MembershipToken.Parse(c.Token).Refusal(c.Kind, c.Value, c.Node, c.Issuers, now);
            Assert.True((refusal is null) == (verdicts[i] == "valid"), $"case {i}: the implementation says {refusal ?? "valid"}, the reference {verdicts[i]}");
        }
    }

    private static string[] Run(string stdin)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Duckton.sln")))
        {
            dir = dir.Parent;
        }
        var psi = new ProcessStartInfo("python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(dir!.FullName, "tools", "membership_token_reference.py"));
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(1)), "membership_token_reference.py did not finish");
        Assert.True(p.ExitCode == 0, stderr.Result);
        return stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
