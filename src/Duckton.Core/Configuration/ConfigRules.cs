using System.Globalization;
using Duckton.Core.Toml;

namespace Duckton.Core.Configuration;

/// <summary>
/// Rules that involve more than one key (the original's <c>GridConfig::validate</c>, adapted). Single-key
/// ranges live in the catalogue; these run on the merged result of all layers, first failure wins.
/// </summary>
internal static class ConfigRules
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    public static void Validate(NodeConfig c, IReadOnlyDictionary<string, ResolvedValue> values)
    {
        string V(string key) => TomlWriter.FormatValue(values[key].Value.ToToml());

        void Require(bool ok, string key, string problem)
        {
            if (!ok)
            {
                var resolved = values[key];
                throw ConfigException.InvalidValue(key, V(key), problem, resolved.Origin);
            }
        }

        // [protocol]
        Require(CompareSemver(c.Protocol.MinSupportedVersion, c.Protocol.Version) <= 0, "protocol.min_supported_version",
            $"must not be newer than protocol.version ({c.Protocol.Version})");

        // [scheduler] / [discovery]: k and q.
        Require(c.Scheduler.Quorum <= c.Scheduler.Replicas, "scheduler.quorum",
            $"quorum must be between 1 and scheduler.replicas ({c.Scheduler.Replicas.ToString(s_inv)})");
        Require(c.Discovery.CandidateSampleSize >= c.Scheduler.Replicas, "discovery.candidate_sample_size",
            $"must be at least scheduler.replicas ({c.Scheduler.Replicas.ToString(s_inv)}): each replica needs a candidate");
        Require(c.Scheduler.BackoffMax >= c.Scheduler.BackoffInitial, "scheduler.backoff_max_ms",
            $"must be at least scheduler.backoff_initial_ms ({V("scheduler.backoff_initial_ms")})");

        // [identity] / [security] / [membership]
        Require(c.Identity.PinningMode != PinningMode.Allowlist || c.Identity.Allowlist.Length > 0, "identity.allowlist",
            "must list at least one node id when identity.pinning_mode = \"allowlist\"");
        if (c.Security.Mode == SecurityMode.Private)
        {
            Require(c.Identity.PinningMode == PinningMode.Allowlist, "identity.pinning_mode",
                "must be \"allowlist\" when security.mode = \"private\"");
            Require(c.Membership.GroupEnforcement == GroupEnforcement.Token, "membership.group_enforcement",
                "must be \"token\" when security.mode = \"private\"");
            Require(c.Membership.Networks.Length > 0 && !c.Membership.Networks.Contains("default"), "membership.networks",
                "must name the private grid's networks (not \"default\") when security.mode = \"private\"");
        }

        // [planner] / [sandbox]
        Require(c.Planner.MaxConcurrentLocalJobs >= 1 || !c.Planner.LocalExecutionEnabled, "planner.max_concurrent_local_jobs",
            "must be at least 1 when planner.local_execution_enabled = true");
        Require(c.Sandbox.TempDirPolicy != TempDirPolicy.Custom || c.Sandbox.TempDir.Length > 0, "sandbox.temp_dir",
            "must be set when sandbox.temp_dir_policy = \"custom\"");

        // [economics]
        var e = c.Economics;
        Require(e.Network != TonNetwork.Mainnet || e.MainnetConfirmed, "economics.network",
            "mainnet puts real TON at stake: also set economics.mainnet_confirmed = true to opt in");
        Require(!e.Enabled || e.Settlement is not (SettlementKind.Channel or SettlementKind.Onchain) || e.FeeRecipient.Trim().Length > 0,
            "economics.fee_recipient", $"must be set when economics is enabled with settlement = \"{e.Settlement.ToConfigString()}\"");
        Require(e.Stake.Unbonding >= e.Slashing.ChallengeWindow, "economics.stake.unbonding_secs",
            $"must be at least economics.slashing.challenge_window_secs ({V("economics.slashing.challenge_window_secs")}) so stake cannot leave before a challenge");
        Require(e.Stake.MinStakeInternal >= e.Stake.MinStake, "economics.stake.min_stake_internal",
            $"must be at least economics.stake.min_stake ({e.Stake.MinStake.ToString(s_inv)})");
        Require(e.Stake.MinStakeSensitive >= e.Stake.MinStakeInternal, "economics.stake.min_stake_sensitive",
            $"must be at least economics.stake.min_stake_internal ({e.Stake.MinStakeInternal.ToString(s_inv)})");
        Require(e.Stake.StakeCap >= e.Stake.MinStake, "economics.stake.stake_cap",
            $"must be at least economics.stake.min_stake ({e.Stake.MinStake.ToString(s_inv)})");
        var slashSum = e.Slashing.SlashToChallenger + e.Slashing.SlashToRedundancy + e.Slashing.SlashToBurn + e.Slashing.SlashToTreasury;
        Require(Math.Abs(slashSum - 1.0) <= 1e-9, "economics.slashing.slash_to_treasury",
            $"economics.slashing.slash_to_challenger + slash_to_redundancy + slash_to_burn + slash_to_treasury must sum to 1 (they sum to {slashSum.ToString("R", s_inv)})");
        var lambdaSum = e.Fees.LambdaQuality + e.Fees.LambdaSpeed;
        Require(Math.Abs(lambdaSum - 1.0) <= 1e-9, "economics.fees.lambda_speed",
            $"economics.fees.lambda_quality + lambda_speed must sum to 1 (they sum to {lambdaSum.ToString("R", s_inv)})");
        Require(e.Selection.NPublic >= e.Selection.ChecksumMin, "economics.selection.n_public",
            $"must be at least economics.selection.checksum_min ({e.Selection.ChecksumMin.ToString(s_inv)})");
        Require(e.Selection.NDefault >= e.Selection.NPublic, "economics.selection.n_default",
            $"must be at least economics.selection.n_public ({e.Selection.NPublic.ToString(s_inv)})");
        Require(e.Selection.NMax >= e.Selection.NDefault, "economics.selection.n_max",
            $"must be at least economics.selection.n_default ({e.Selection.NDefault.ToString(s_inv)})");
    }

    private static int CompareSemver(string a, string b)
    {
        var x = a.Split('.').Select(p => int.Parse(p, s_inv)).ToArray();
        var y = b.Split('.').Select(p => int.Parse(p, s_inv)).ToArray();
        for (var i = 0; i < 3; i++)
        {
            var cmp = x[i].CompareTo(y[i]);
            if (cmp != 0) return cmp;
        }
        return 0;
    }
}
