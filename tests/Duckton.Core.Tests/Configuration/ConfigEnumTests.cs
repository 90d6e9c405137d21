using Duckton.Core.Configuration;

namespace Duckton.Core.Tests.Configuration;

/// <summary>The one enum-spelling table: every member of every configuration enum reads back, unknown spellings fail.</summary>
public class ConfigEnumTests
{
    /// <summary>Round-trips every member of <typeparamref name="T"/> and checks the key accepts exactly its spellings.</summary>
    private static void RoundTrips<T>(params string[] expected)
        where T : struct, Enum
    {
        Assert.Equal(expected, ConfigEnum.Spellings<T>());
        Assert.Equal(Enum.GetValues<T>(), ConfigEnum.Values<T>());
        foreach (var value in Enum.GetValues<T>())
        {
            var text = value.ToConfigString();
            Assert.Equal(value, ConfigEnum.Parse<T>(text));
            Assert.Equal(value, ConfigEnum.Parse<T>(text.ToUpperInvariant())); // reading ignores case, as it always has
            Assert.Equal(value, ConfigEnum.Parse<T>(" " + text + " "));
        }
        Assert.False(ConfigEnum.TryParse<T>("no-such-value", out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => ((T)(object)999).ToConfigString());
        // Every key typed T offers exactly these words, and binds each to its member.
        var keys = ConfigCatalog.Keys.Where(k => k.EnumType == typeof(T)).ToList();
        Assert.NotEmpty(keys);
        foreach (var key in keys)
        {
            Assert.Equal(expected, key.AllowedValues);
            foreach (var (text, value) in expected.Zip(Enum.GetValues<T>()))
            {
                Assert.True(key.TryParse(text, out var parsed, out var problem), problem);
                Assert.Equal(key.Type == ConfigValueType.StringList ? ConfigValue.List([text]) : ConfigValue.Enum(text), parsed);
            }
        }
    }

    [Fact]
    public void Every_member_of_every_config_enum_round_trips()
    {
        RoundTrips<PinningMode>("tofu", "allowlist");
        RoundTrips<SecurityMode>("public", "private");
        RoundTrips<GroupEnforcement>("soft", "token");
        RoundTrips<RegionTrust>("declared", "attested");
        RoundTrips<VerifyMode>("quorum", "fast");
        RoundTrips<DataClass>("public", "internal", "sensitive");
        RoundTrips<AttestationLevel>("L0", "L1", "L2");
        RoundTrips<PlannerPreference>("local", "remote", "auto");
        RoundTrips<SandboxBackend>("auto", "none", "rlimit", "cgroups");
        RoundTrips<TempDirPolicy>("ephemeral", "inherit", "custom");
        RoundTrips<SandboxLimitsMode>("inherit_budget", "explicit");
        RoundTrips<SettlementKind>("noop", "channel", "onchain", "mock");
        RoundTrips<TonNetwork>("testnet", "mainnet", "local");
        RoundTrips<PaymentMode>("free", "paid", "auto");
        RoundTrips<PricingModel>("metered", "fixed");
    }

    [Fact]
    public void Every_enum_typed_key_is_covered_above()
    {
        var covered = new HashSet<Type>
        {
            typeof(PinningMode), typeof(SecurityMode), typeof(GroupEnforcement), typeof(RegionTrust),
            typeof(VerifyMode), typeof(DataClass), typeof(AttestationLevel),
            typeof(PlannerPreference), typeof(SandboxBackend), typeof(TempDirPolicy), typeof(SandboxLimitsMode),
            typeof(SettlementKind), typeof(TonNetwork), typeof(PaymentMode), typeof(PricingModel),
        };
        foreach (var key in ConfigCatalog.Keys.Where(k => k.EnumType is not null))
        {
            Assert.Contains(key.EnumType!, covered);
        }
    }

    [Fact]
    public void Unknown_spellings_are_rejected_with_the_allowed_words_and_a_did_you_mean()
    {
        var verify = ConfigCatalog.Get("scheduler.verify_mode");
        Assert.False(verify.TryParse("quorom", out _, out var problem));
        Assert.Equal("must be one of quorum, fast (did you mean 'quorum'?)", problem);
        Assert.False(verify.TryParse("maybe", out _, out problem));
        Assert.Equal("must be one of quorum, fast", problem); // nothing close: no guess

        var attestation = ConfigCatalog.Get("trust.min_attestation");
        Assert.False(attestation.TryParse("l3", out _, out problem));
        Assert.Equal("must be one of L0, L1, L2 (did you mean 'L0'?)", problem);

        var error = Assert.Throws<ConfigException>(() => EffectiveConfig.Defaults.WithOverrides([new KeyValuePair<string, string>("sandbox.backend", "cgroupz")]));
        Assert.Equal("per-call override: sandbox.backend = cgroupz is invalid: must be one of auto, none, rlimit, cgroups (did you mean 'cgroups'?)", error.Message);

        var parse = Assert.Throws<ArgumentException>(() => ConfigEnum.Parse<PlannerPreference>("remot"));
        Assert.StartsWith("must be one of local, remote, auto (did you mean 'remote'?)", parse.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Snake_case_is_the_default_spelling()
    {
        Assert.Equal("scoped_secret", ConfigEnum.SnakeCase("ScopedSecret"));
        Assert.Equal("lz4", ConfigEnum.SnakeCase("Lz4"));
        Assert.Equal("inherit_budget", ConfigEnum.SnakeCase(nameof(SandboxLimitsMode.InheritBudget)));
    }
}
