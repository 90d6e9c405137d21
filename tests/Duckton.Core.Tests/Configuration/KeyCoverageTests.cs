using System.Text.RegularExpressions;
using Duckton.Core.Configuration;

namespace Duckton.Core.Tests.Configuration;

/// <summary>
/// Every configuration key must be read by the code that it configures: a key that nothing reads is validated,
/// documented and shown by <c>p2p_config()</c> as if it worked. The check reads the sources: a key counts as read when
/// its generated property is used outside the configuration layer, as <c>Section.Property</c> (or a local named after
/// the section), or by a property name that no other key shares.
/// </summary>
public sealed partial class KeyCoverageTests
{
    [Fact]
    public void Every_key_is_read_by_the_code_it_configures()
    {
        var unread = UnreadKeys();
        var inert = unread.Where(k => ConfigCatalog.Get(k).InEffect).ToList();
        Assert.True(inert.Count == 0, "keys no code reads (make them work, or remove them from ConfigCatalog.Keys.cs): " + string.Join(", ", inert));
        var stale = ConfigCatalog.NotYetInEffect.Where(k => !unread.Contains(k)).ToList();
        Assert.True(stale.Count == 0, "keys now read by code: take them off ConfigCatalog.NotYetInEffect: " + string.Join(", ", stale));
    }

    [Fact]
    public void The_scan_finds_a_key_that_nothing_reads()
    {
        // The check must be able to fail: a property used nowhere is reported, one used as Section.Property is not.
        var sources = "var t = config.Trust.MinTrust;";
        Assert.True(IsRead("Trust", "MinTrust", unique: false, sources));
        Assert.False(IsRead("Trust", "CanaryRate", unique: true, sources));
        Assert.True(IsRead("Scheduler", "Quorum", unique: false, "var scheduler = c.Scheduler; var q = scheduler.Quorum;"));
    }

    private static HashSet<string> UnreadKeys()
    {
        var root = RepoPaths.Root;
        var generated = File.ReadAllText(Path.Combine(root, "src", "Duckton.Core", "Configuration", "NodeConfig.g.cs"));
        var records = RecordRegex().Matches(generated).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value, StringComparer.Ordinal);
        var parentProperty = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var body in records.Values)
        {
            foreach (Match m in SectionPropertyRegex().Matches(body))
            {
                parentProperty[m.Groups[1].Value] = m.Groups[2].Value;
            }
        }
        // A record that serves several sections (economics.testnet / economics.mainnet) names its keys with a placeholder.
        var keys = records.SelectMany(r => KeyPropertyRegex().Matches(r.Value).SelectMany(m => Expand(m.Groups[1].Value.Replace("&lt;", "<", StringComparison.Ordinal).Replace("&gt;", ">", StringComparison.Ordinal))
            .Select(key => (Key: key, Record: r.Key, Property: m.Groups[2].Value)))).ToList();
        Assert.Equal(ConfigCatalog.Keys.Select(k => k.Key).Order(StringComparer.Ordinal), keys.Select(k => k.Key).Order(StringComparer.Ordinal));
        var counts = keys.GroupBy(k => k.Property).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var sources = string.Join("\n", Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"Duckton.Core{Path.DirectorySeparatorChar}Configuration{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText));
        return keys.Where(k => !IsRead(parentProperty.GetValueOrDefault(k.Record, ""), k.Property, counts[k.Property] == 1, sources))
            .Select(k => k.Key).ToHashSet(StringComparer.Ordinal);
    }

    private static IEnumerable<string> Expand(string key)
    {
        if (!key.Contains('<', StringComparison.Ordinal))
        {
            return [key];
        }
        var pattern = "^" + Regex.Replace(Regex.Escape(key), @"<\w+>", @"[a-z0-9_]+") + "$";
        return ConfigCatalog.Keys.Select(k => k.Key).Where(k => Regex.IsMatch(k, pattern));
    }

    private static bool IsRead(string section, string property, bool unique, string sources)
    {
        if (section.Length > 0)
        {
            var local = char.ToLowerInvariant(section[0]) + section[1..];
            if (Regex.IsMatch(sources, $@"\b(?:{section}|{local})\.{property}\b"))
            {
                return true;
            }
        }
        return unique && Regex.IsMatch(sources, $@"\.{property}\b(?!\s*\()"); // a method of the same name is not a read
    }

    [GeneratedRegex(@"public sealed partial record (\w+)\n\{(.*?)\n    internal static", RegexOptions.Singleline)]
    private static partial Regex RecordRegex();

    [GeneratedRegex(@"public (\w+Config) (\w+) \{ get; init; \}")]
    private static partial Regex SectionPropertyRegex();

    [GeneratedRegex(@"\(<c>([\w.&;]+)</c>\)</summary>\n\s+public [\w<>?,\[\]. ]+ (\w+) \{ get; init; \}")]
    private static partial Regex KeyPropertyRegex();
}
