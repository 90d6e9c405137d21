using System.CommandLine;
using System.Globalization;
using Duckton.Core.Crypto;
using Duckton.Core.Protocol;

namespace Duckton.Cli;

/// <summary>
/// <c>duckton token keygen|issue</c>: an issuer's side of signed group/region membership tokens. The issuer key file
/// holds a 32-byte Ed25519 seed as 64 hex digits (mode 0600); requesters list its public key in
/// <c>membership.group_issuers</c> / <c>region_issuers</c>, and a host installs the issued token in
/// <c>membership.group_token</c> / <c>region_token</c>. Exit 0 on success, 2 on a usage or file problem.
/// </summary>
internal static class TokenCommands
{
    public static Command Token()
    {
        var keyOption = () => new Option<string>("--key") { Description = "The issuer key file (64 hex digits: an Ed25519 seed)", Required = true };

        var keygenKey = keyOption();
        var keygen = new Command("keygen", "Create a new issuer key file (refuses to overwrite one) and print its public key");
        keygen.Options.Add(keygenKey);
        keygen.SetAction(parse => Keygen(parse.GetValue(keygenKey)!));

        var kind = new Option<string>("--kind") { Description = "group or region", Required = true };
        kind.AcceptOnlyFromAmong("group", "region");
        var value = new Option<string>("--value") { Description = "The group or region name", Required = true };
        var node = new Option<string>("--node") { Description = "The node id the token is for (b3:…, as p2p_info() or p2p_peers() show it)", Required = true };
        var issueKey = keyOption();
        var days = new Option<int>("--days") { Description = "Validity in days from now (1..3650)", DefaultValueFactory = _ => 365 };
        var issue = new Command("issue", "Sign a membership token for one node and print it (install it as membership.group_token or region_token)");
        issue.Options.Add(kind);
        issue.Options.Add(value);
        issue.Options.Add(node);
        issue.Options.Add(issueKey);
        issue.Options.Add(days);
        issue.SetAction(parse => Issue(parse.GetValue(kind)!, parse.GetValue(value)!, parse.GetValue(node)!, parse.GetValue(issueKey)!, parse.GetValue(days)));

        var token = new Command("token", "Signed group/region membership tokens: issuer keys and tokens");
        token.Subcommands.Add(keygen);
        token.Subcommands.Add(issue);
        return token;
    }

    private static int Keygen(string path)
    {
        if (File.Exists(path) || Directory.Exists(path))
        {
            Console.Error.WriteLine($"Error: {path} already exists; an issuer key is never overwritten");
            return 2;
        }
        using var key = Ed25519Key.Generate();
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using var stream = new FileStream(path, options);
            stream.Write(System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(key.Seed) + "\n"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"Error: cannot write {path}: {e.Message}");
            return 2;
        }
        Console.WriteLine(Convert.ToHexStringLower(key.PublicKey));
        return 0;
    }

    private static int Issue(string kind, string value, string node, string keyPath, int days)
    {
        if (!MembershipToken.TryNodeDigest(node, out _))
        {
            Console.Error.WriteLine($"Error: --node '{node}' is not a node id (b3: and 64 lower-case hex digits)");
            return 2;
        }
        var valueBytes = System.Text.Encoding.UTF8.GetByteCount(value);
        if (value.Trim().Length == 0 || valueBytes > ProtoLimits.MaxLabelBytes)
        {
            Console.Error.WriteLine($"Error: --value must be 1..{ProtoLimits.MaxLabelBytes} bytes of non-blank text");
            return 2;
        }
        if (days is < 1 or > 3650)
        {
            Console.Error.WriteLine("Error: --days must be between 1 and 3650");
            return 2;
        }
        byte[] seed;
        try
        {
            var text = File.ReadAllText(keyPath).Trim();
            if (text.Length != 64 || text.AsSpan().ContainsAnyExcept("0123456789abcdefABCDEF"))
            {
                Console.Error.WriteLine($"Error: {keyPath} is not an issuer key (64 hex digits; create one with `duckton token keygen`)");
                return 2;
            }
            seed = Convert.FromHexString(text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"Error: cannot read {keyPath}: {e.Message}");
            return 2;
        }
        using var key = Ed25519Key.FromSeed(seed);
        var now = DateTimeOffset.UtcNow;
        var token = MembershipToken.Issue(key, kind == "region" ? MembershipKind.Region : MembershipKind.Group, node, value, now, now.AddDays(days));
        Console.WriteLine(token.ToText());
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{kind} '{value}' for {node}, valid until {now.AddDays(days):yyyy-MM-dd HH:mm} UTC; requesters list the issuer as {value}={Convert.ToHexStringLower(key.PublicKey)}"));
        return 0;
    }
}
