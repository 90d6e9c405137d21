using Duckton.Core.Data;
using Duckton.Core.Hashing;

namespace Duckton.Node;

/// <summary>The canonical result hash as the node reports it (lowercase hex, docs/PROTOCOL.md).</summary>
internal static class ResultHashing
{
    public static string Compute(ResultSet result) => CanonicalResultHash.Compute(result).ToString();
}
