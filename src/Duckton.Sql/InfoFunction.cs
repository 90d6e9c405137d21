using Duckton.Core.Data;
using Duckton.DuckDB.Functions;

namespace Duckton.Sql;

/// <summary><c>p2p_info()</c>: protocol identity of this build.</summary>
internal sealed class InfoFunction : TableFunctionDefinition
{
    public override string Name => "p2p_info";

    // The rows never change within a process: build them once (saves work on every call: the extension's per-call budget in docs/BENCHMARKS.md).
    private static readonly ResultSet s_rows = TextResult.KeyValue(
    [
        ("protocol_name", ProtocolInfo.Name),
        ("protocol_version", ProtocolInfo.Version),
        ("min_supported_version", ProtocolInfo.MinSupportedVersion),
        ("schema_version", ProtocolInfo.SchemaVersion),
        ("extension_version", ProtocolInfo.ExtensionVersion),
        ("alpn", ProtocolInfo.Alpn),
    ]);

    public override ResultSet Bind(TableFunctionArguments arguments) => s_rows;
}

/// <summary>Protocol constants (the wire protocol's own, from the transport, so <c>p2p_info()</c> cannot drift from what is spoken).</summary>
public static class ProtocolInfo
{
    public const string Name = Duckton.Transport.TransportProtocol.Name;
    public const string Version = Duckton.Transport.TransportProtocol.Version;
    public const string MinSupportedVersion = Duckton.Transport.TransportProtocol.MinSupportedVersion;
    public const string SchemaVersion = "1";
    public const string Alpn = Duckton.Transport.TransportProtocol.Alpn;

    /// <summary>This build's version (the assembly's informational version, without build metadata).</summary>
    public static string ExtensionVersion { get; } = ReadVersion();

    // The informational version is the build's full SemVer (MinVer: e.g. 1.2.0 or 0.0.0-alpha.0.42); the assembly
    // version keeps only the major number, so it cannot tell builds apart.
    private static string ReadVersion()
    {
        var informational = typeof(ProtocolInfo).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion;
        if (!string.IsNullOrEmpty(informational))
        {
            var plus = informational.IndexOf('+', StringComparison.Ordinal);
            return plus < 0 ? informational : informational[..plus];
        }
        var v = typeof(ProtocolInfo).Assembly.GetName().Version;
        return v is null ? "0.0.0" : $"{v.Major}.{v.Minor}.{v.Build}";
    }
}
