using System.Reflection;
using System.Text.Json;
using Duckton.Ton.Cells;

namespace Duckton.Ton.Contracts;

/// <summary>
/// The compiled code of duckton's contracts, embedded from the committed build outputs (contracts/build/*.json). The
/// code cell's hash is checked against the recorded hash when loaded.
/// </summary>
public static class ContractCode
{
    private static readonly Dictionary<string, Lazy<Cell>> s_code = new[] { "JobEscrow", "StakeVault", "GlobalParams", "RecordAnchor" }
        .ToDictionary(n => n, n => new Lazy<Cell>(() => Load(n)), StringComparer.Ordinal);

    public static Cell JobEscrow => s_code["JobEscrow"].Value;

    public static Cell StakeVault => s_code["StakeVault"].Value;

    public static Cell GlobalParams => s_code["GlobalParams"].Value;

    public static Cell RecordAnchor => s_code["RecordAnchor"].Value;

    private static Cell Load(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"Duckton.Ton.contracts.{name}.json")
            ?? throw new InvalidOperationException($"embedded contract build output {name}.json is missing");
        using var doc = JsonDocument.Parse(stream);
        var code = BagOfCells.ParseBase64(doc.RootElement.GetProperty("codeBoc64").GetString()!);
        var expected = doc.RootElement.GetProperty("codeHashHex").GetString()!;
        if (!string.Equals(code.HashHex, expected, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{name}.json: the code's hash {code.HashHex} differs from the recorded {expected}");
        }
        return code;
    }
}
