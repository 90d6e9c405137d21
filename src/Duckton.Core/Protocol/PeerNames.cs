using System.Security.Cryptography;
using System.Text;

namespace Duckton.Core.Protocol;

/// <summary>
/// A short memorable name for a node id (<c>adjective-animal</c>), the same on every machine: for people reading
/// <c>p2p_peers()</c>, never an identity (two nodes can share a name; the node id is what is checked).
/// </summary>
public static class PeerNames
{
    private static readonly string[] s_adjectives =
    [
        "amber", "bold", "brave", "brisk", "calm", "clever", "cosmic", "crisp", "curious", "dapper", "daring", "eager", "fancy", "fearless", "gentle", "giddy",
        "glad", "golden", "grand", "happy", "hardy", "hazel", "honest", "humble", "jolly", "keen", "kind", "lively", "lucky", "mellow", "merry", "mighty",
        "misty", "modest", "nimble", "noble", "plucky", "polite", "proud", "quick", "quiet", "rapid", "ruby", "rustic", "shiny", "silent", "silver", "sleek",
        "smart", "snowy", "solar", "spry", "steady", "stout", "sunny", "swift", "tidy", "trusty", "vivid", "wandering", "warm", "wise", "witty", "zesty",
    ];

    private static readonly string[] s_animals =
    [
        "alpaca", "badger", "beaver", "bison", "bobcat", "camel", "cheetah", "cobra", "condor", "coyote", "crane", "dingo", "dolphin", "eagle", "falcon", "ferret",
        "finch", "fox", "gazelle", "gecko", "gibbon", "heron", "hippo", "ibis", "iguana", "impala", "jackal", "jaguar", "koala", "lemur", "leopard", "lynx",
        "marmot", "meerkat", "mink", "moose", "narwhal", "newt", "ocelot", "orca", "osprey", "otter", "owl", "panda", "panther", "pelican", "puffin", "quail",
        "rabbit", "raven", "robin", "salmon", "seal", "shark", "sloth", "stork", "tapir", "tiger", "toucan", "turtle", "walrus", "weasel", "wombat", "yak",
    ];

    /// <summary>The name of <paramref name="nodeId"/>, derived from a SHA-256 of its text (stable across versions of this list's order only).</summary>
    public static string Of(string nodeId)
    {
        ArgumentNullException.ThrowIfNull(nodeId);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(nodeId), digest);
        return s_adjectives[digest[0] % s_adjectives.Length] + "-" + s_animals[digest[1] % s_animals.Length];
    }
}
