using Duckton.Core.Configuration;

namespace Duckton.Core.Tests.Configuration;

public class ConfigKeyTests
{
    [Theory]
    [InlineData("2GB", 2L << 30)]
    [InlineData("512MB", 512L << 20)]
    [InlineData("512 MiB", 512L << 20)]
    [InlineData("1.5g", 3L << 29)]
    [InlineData("64k", 64L << 10)]
    [InlineData("4096", 4096L)]
    [InlineData("1TB", 1L << 40)]
    [InlineData("10b", 10L)]
    public void Byte_sizes_accept_units(string text, long bytes)
    {
        Assert.True(ConfigKey.TryParseByteSize(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("GB")]
    [InlineData("2 parsecs")]
    [InlineData("-1GB")]
    [InlineData("99999999999TB")]
    public void Bad_byte_sizes_are_rejected(string text) => Assert.False(ConfigKey.TryParseByteSize(text, out _));

    [Fact]
    public void Byte_size_key_reports_the_expected_format()
    {
        var key = ConfigCatalog.Get("budget.memory_bytes");
        Assert.False(key.TryParse("lots", out _, out var problem));
        Assert.Equal("expected a byte size such as 512MB, 2GB or a number of bytes", problem);
        Assert.False(key.TryParse("0", out _, out problem));
        Assert.Equal("must be at least 1 byte", problem);
    }

    [Theory]
    [InlineData("scheduler.dispatch_timeout_ms", "45s", 45_000L)]
    [InlineData("scheduler.dispatch_timeout_ms", "250", 250L)]
    [InlineData("scheduler.dispatch_timeout_ms", "2m", 120_000L)]
    [InlineData("trust.reputation_half_life_secs", "7d", 604_800L)]
    [InlineData("trust.reputation_half_life_secs", "90", 90L)]
    [InlineData("trust.reputation_half_life_secs", "2000ms", 2L)]
    public void Durations_accept_units_and_store_the_key_unit(string key, string text, long amount)
    {
        Assert.True(ConfigCatalog.Get(key).TryParse(text, out var value, out var problem), problem);
        Assert.Equal(amount, value.AsInt);
    }

    [Fact]
    public void Durations_must_be_whole_in_the_key_unit()
    {
        Assert.False(ConfigCatalog.Get("trust.reputation_half_life_secs").TryParse("1500ms", out _, out var problem));
        Assert.Equal("must be a whole number of seconds", problem);
    }

    [Fact]
    public void Enums_are_case_insensitive_canonical_and_know_aliases()
    {
        Assert.True(ConfigCatalog.Get("trust.min_attestation").TryParse("l2", out var level, out _));
        Assert.Equal("L2", level.AsString);
        Assert.True(ConfigCatalog.Get("planner.prefer").TryParse(" Remote ", out var prefer, out _));
        Assert.Equal("remote", prefer.AsString);
        Assert.True(ConfigCatalog.Get("economics.settlement").TryParse("ton", out var settlement, out _));
        Assert.Equal("onchain", settlement.AsString);
        Assert.True(ConfigCatalog.Get("economics.settlement").TryParse("free", out var free, out _));
        Assert.Equal("noop", free.AsString);
        Assert.False(ConfigCatalog.Get("scheduler.verify_mode").TryParse("optimistic", out _, out var problem));
        Assert.Equal("must be one of quorum, fast", problem);
    }

    [Fact]
    public void Lists_accept_comma_text_and_TOML_arrays_and_check_elements()
    {
        var bootstrap = ConfigCatalog.Get("discovery.bootstrap");
        Assert.True(bootstrap.TryParse("10.0.0.5:9494, seed.example.org:9494,,", out var list, out _));
        Assert.Equal(["10.0.0.5:9494", "seed.example.org:9494"], list.AsList.ToArray());
        Assert.True(bootstrap.TryParse("[\"[::1]:9494\"]", out list, out _));
        Assert.Equal(["[::1]:9494"], list.AsList.ToArray());
        Assert.False(bootstrap.TryParse("10.0.0.5", out _, out var problem));
        Assert.Equal("element \"10.0.0.5\": expected host:port (port 1..65535)", problem);

        var classes = ConfigCatalog.Get("budget.data_classes");
        Assert.False(classes.TryParse("public,secret", out _, out problem));
        Assert.Equal("element \"secret\" must be one of public, internal, sensitive", problem);
        Assert.False(classes.TryParse("", out _, out problem));
        Assert.Equal("needs at least 1 element", problem);
    }

    [Fact]
    public void String_rules_check_shapes()
    {
        Assert.True(ConfigKey.TryRule(StringRule.NodeId, "b3:" + new string('a', 64), out _));
        Assert.False(ConfigKey.TryRule(StringRule.NodeId, "b3:" + new string('A', 64), out _));
        Assert.True(ConfigKey.TryRule(StringRule.IssuerEntry, "analytics=" + new string('F', 64), out _));
        Assert.False(ConfigKey.TryRule(StringRule.IssuerEntry, "=" + new string('F', 64), out _));
        Assert.True(ConfigKey.TryRule(StringRule.SocketAddress, "0.0.0.0:0", out _));
        Assert.False(ConfigKey.TryRule(StringRule.SocketAddress, "localhost:70000", out _));
        Assert.False(ConfigKey.TryRule(StringRule.AbsolutePath, "relative/key.pem", out _));
        Assert.False(ConfigKey.TryRule(StringRule.AbsolutePath, "/etc/../root", out _));
        Assert.True(ConfigKey.TryRule(StringRule.HttpUrl, "https://testnet.toncenter.com/api/v2/", out _));
        Assert.False(ConfigKey.TryRule(StringRule.Semver, "1.0", out _));
    }

    [Fact]
    public void Floats_accept_integers_in_TOML_and_check_ranges()
    {
        var minTrust = ConfigCatalog.Get("trust.min_trust");
        Assert.True(minTrust.TryFromToml(new Duckton.Core.Toml.TomlInteger(1), out var one, out _));
        Assert.Equal(1.0, one.AsFloat);
        Assert.False(minTrust.TryParse("1.5", out _, out var problem));
        Assert.Equal("must be 0 ≤ x ≤ 1", problem);
    }

    [Fact]
    public void Booleans_accept_common_spellings()
    {
        var key = ConfigCatalog.Get("worker.enabled");
        foreach (var yes in new[] { "true", "TRUE", "1", "yes", "on" })
        {
            Assert.True(key.TryParse(yes, out var v, out _));
            Assert.True(v.AsBool);
        }
        Assert.False(key.TryParse("maybe", out _, out var problem));
        Assert.Equal("expected a boolean (true or false)", problem);
    }
}
