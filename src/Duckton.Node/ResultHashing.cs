using Duckton.Core.Data;

namespace Duckton.Node;

/// <summary>The canonical result hash as the node reports it.</summary>
internal static class ResultHashing
{
    public static string? Compute(ResultSet result) => Duckton.Core.Hashing.CanonicalResultHash.Compute(result).ToString();
}
