using Duckton.Core.Protocol;
using CoreConfig = Duckton.Core.Configuration;

namespace Duckton.Node.Grid;

/// <summary>
/// A requester's view of a host's advertised groups and region: verified (a valid signed token from an issuer this
/// requester lists in <c>membership.group_issuers</c> / <c>region_issuers</c>) or self-declared, and whether it satisfies
/// a query's <c>groups =&gt;</c> / <c>regions =&gt;</c> under <c>membership.group_enforcement</c> and <c>region_trust</c>.
/// </summary>
internal static class Memberships
{
    /// <summary>The host's declared groups that one of its tokens proves.</summary>
    public static IReadOnlyList<string> VerifiedGroups(AdvertMessage advert, string nodeId, CoreConfig.MembershipConfig m, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(advert);
        ArgumentNullException.ThrowIfNull(m);
        return advert.Tokens.Count == 0 ? [] : [.. advert.Groups.Where(g => GroupRefusal(advert, nodeId, g, m, now) is null)];
    }

    /// <summary>True when a token proves the host's declared region.</summary>
    public static bool RegionVerified(AdvertMessage advert, string nodeId, CoreConfig.MembershipConfig m, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(advert);
        ArgumentNullException.ThrowIfNull(m);
        return advert.Region.Length > 0 && advert.Tokens.Count > 0
            && MembershipToken.Check(advert.Tokens, MembershipKind.Region, advert.Region, nodeId, m.RegionIssuers, now) is null;
    }

    /// <summary>Null when a token proves the host's membership of <paramref name="group"/>, else why not.</summary>
    public static string? GroupRefusal(AdvertMessage advert, string nodeId, string group, CoreConfig.MembershipConfig m, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(advert);
        ArgumentNullException.ThrowIfNull(m);
        if (!advert.Groups.Contains(group))
        {
            return "not in the group";
        }
        if (!HasIssuer(m.GroupIssuers, group))
        {
            return $"no issuer for '{group}' in membership.group_issuers";
        }
        return MembershipToken.Check(advert.Tokens, MembershipKind.Group, group, nodeId, m.GroupIssuers, now);
    }

    /// <summary>
    /// Whether the host satisfies <c>groups =&gt;</c>: soft enforcement trusts any declared group; token enforcement needs
    /// one of the groups proven by a token.
    /// </summary>
    public static bool MatchesGroups(AdvertMessage advert, string nodeId, IReadOnlyList<string> groups, CoreConfig.MembershipConfig m, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(m);
        return m.GroupEnforcement == CoreConfig.GroupEnforcement.Token
            ? groups.Any(g => GroupRefusal(advert, nodeId, g, m, now) is null)
            : groups.Any(advert.Groups.Contains);
    }

    /// <summary>
    /// Whether the host satisfies <c>regions =&gt;</c>: its declared region is listed; a region with issuers in
    /// <c>region_issuers</c> must be proven by a token from one of them; <c>region_trust = attested</c> also needs
    /// attestation ≥ L1.
    /// </summary>
    public static bool MatchesRegions(AdvertMessage advert, string nodeId, IReadOnlyList<string> regions, CoreConfig.MembershipConfig m, DateTimeOffset now) =>
        RegionRefusal(advert, nodeId, regions, m, now) is null;

    /// <summary>Null when the host satisfies <c>regions =&gt;</c>, else why not (for the error that names excluded hosts).</summary>
    public static string? RegionRefusal(AdvertMessage advert, string nodeId, IReadOnlyList<string> regions, CoreConfig.MembershipConfig m, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(advert);
        ArgumentNullException.ThrowIfNull(regions);
        ArgumentNullException.ThrowIfNull(m);
        if (!regions.Contains(advert.Region))
        {
            return advert.Region.Length == 0 ? "no region" : $"region '{advert.Region}'";
        }
        if (HasIssuer(m.RegionIssuers, advert.Region)
            && MembershipToken.Check(advert.Tokens, MembershipKind.Region, advert.Region, nodeId, m.RegionIssuers, now) is { } why)
        {
            return $"region '{advert.Region}' not verified: {why}";
        }
        if (m.RegionTrust == CoreConfig.RegionTrust.Attested && advert.Attestation < (byte)CoreConfig.AttestationLevel.L1)
        {
            return $"region '{advert.Region}' without attestation ≥ L1 (region_trust = attested)";
        }
        return null;
    }

    private static bool HasIssuer(IReadOnlyList<string> issuers, string value) =>
        issuers.Any(e => e.IndexOf('=', StringComparison.Ordinal) is > 0 and var eq && string.Equals(e[..eq].Trim(), value, StringComparison.Ordinal));
}
