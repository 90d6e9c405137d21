using System.IO.Compression;
using System.Text.RegularExpressions;

namespace Duckton.Library.Tests;

/// <summary>
/// Runs only when DUCKTON_PACKAGE_TESTS=1 (./test.sh sets it): packing and restoring fresh projects takes minutes.
/// </summary>
public sealed class PackageFactAttribute : FactAttribute
{
    public PackageFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("DUCKTON_PACKAGE_TESTS") != "1")
        {
            Skip = "set DUCKTON_PACKAGE_TESTS=1 (./test.sh does) to pack the packages and install them in a clean project";
        }
    }
}

/// <summary>
/// What a .NET user does: the packages from dotnet pack in a local folder feed, a new console project with an empty
/// NuGet cache that adds the Duckton package and runs a verified grid query with a certificate check, and the duckton
/// tool installed with dotnet tool install, running the README's main job outside the repository.
/// </summary>
public sealed partial class PackageTests : IDisposable
{
    private readonly TempDirs _dirs = new();

    public void Dispose() => _dirs.Dispose();

    private static readonly TimeSpan s_long = TimeSpan.FromMinutes(15);

    [PackageFact]
    public void The_packages_install_in_a_clean_project_and_as_a_tool()
    {
        var work = _dirs.New("duckton-pack-");
        var feed = Directory.CreateDirectory(Path.Combine(work, "feed")).FullName;
        // Own bin/obj (artifacts path): the pack never races the test run's or another test's build of the same projects.
        // The analyzers ran in the test run's own build of these sources (they change no output, and were half the
        // pack's CPU: minutes on a small machine, while the other test assemblies run beside it).
        var artifacts = Path.Combine(work, "artifacts");
        foreach (var project in new[] { "src/Duckton/Duckton.csproj", "src/Duckton.Cli/Duckton.Cli.csproj" })
        {
            var pack = Repo.Run("dotnet", ["pack", Path.Combine(Repo.Root, project), "-c", "Release", "-o", feed, "--artifacts-path", artifacts, "-nologo", "-p:RunAnalyzers=false"], Repo.Root, s_long);
            Assert.True(pack.Code == 0, $"dotnet pack {project} failed:\n{pack.Out}\n{pack.Err}");
        }
        var library = Assert.Single(Directory.GetFiles(feed, "Duckton.*.nupkg"), f => !Path.GetFileName(f).StartsWith("Duckton.Tool.", StringComparison.Ordinal));
        var version = VersionOf(Path.GetFileName(library), "Duckton");
        // One version: both packages here, the library inside (the consumer prints DucktonNode.Version), the tool's
        // --version and its p2p_info() all say the same (checked below). Well-formed SemVer with or without tags.
        Assert.Matches(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$", version);
        Assert.True(File.Exists(Path.Combine(feed, $"Duckton.Tool.{version}.nupkg")), "the tool package has the library's version");
        CheckLayout(library);

        // A clean consumer: its own NuGet cache, sources = the local feed + the machine's registry (nothing else).
        var home = Directory.CreateDirectory(Path.Combine(work, "consumer")).FullName;
        File.WriteAllText(Path.Combine(home, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="registry" value="{RegistrySource()}" />
              </packageSources>
            </configuration>
            """);
        var env = new Dictionary<string, string?>
        {
            ["NUGET_PACKAGES"] = Path.Combine(work, "nuget-cache"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["DUCKTON_CONFIG_DIR"] = null,
            ["DUCKTON_LIBDUCKDB"] = null,
        };
        var app = Path.Combine(home, "app");
        Ok(Repo.Run("dotnet", ["new", "console", "-o", app, "--framework", "net10.0"], home, s_long, env), "dotnet new console");
        Ok(Repo.Run("dotnet", ["add", "package", "Duckton", "--version", version], app, s_long, env), "dotnet add package Duckton");
        File.WriteAllText(Path.Combine(app, "Program.cs"), ConsumerProgram);
        var run = Repo.Run("dotnet", ["run", "-c", "Release"], app, s_long, env);
        Ok(run, "dotnet run (the consumer)");
        Assert.Contains("answer=42 verified=True local=False agreement>=2", run.Out, StringComparison.Ordinal);
        Assert.Contains("certificate valid=True", run.Out, StringComparison.Ordinal);
        Assert.Contains("tampered rows valid=False", run.Out, StringComparison.Ordinal);
        Assert.Contains($"version={version}", run.Out, StringComparison.Ordinal);

        // The tool, from outside the repository.
        var tools = Path.Combine(work, "tools");
        Ok(Repo.Run("dotnet", ["tool", "install", "--tool-path", tools, "Duckton.Tool", "--version", version, "--configfile", Path.Combine(home, "nuget.config")], home, s_long, env),
            "dotnet tool install");
        var toolEnv = new Dictionary<string, string?>(env) { ["DUCKTON_CONFIG_DIR"] = Path.Combine(work, "tool-node") };
        var duckton = Path.Combine(tools, "duckton");
        var main = Repo.Run(duckton, ["sql", "--format", "csv", "-c", "SELECT typeof(answer) AS t, answer FROM p2p_query('SELECT 42 AS answer')"], home, TimeSpan.FromMinutes(3), toolEnv);
        Ok(main, "duckton sql (the README's main job)");
        Assert.Equal("t,answer\nINTEGER,42\n", main.Out.Replace("\r", "", StringComparison.Ordinal));
        var v = Repo.Run(duckton, ["--version"], home, TimeSpan.FromMinutes(1), toolEnv);
        Ok(v, "duckton --version");
        Assert.Equal(version, v.Out.Trim().Split('+')[0]);
        var info = Repo.Run(duckton, ["sql", "--format", "csv", "-c", "SELECT value FROM p2p_info() WHERE key = 'extension_version'"], home, TimeSpan.FromMinutes(3), toolEnv);
        Ok(info, "duckton sql p2p_info()");
        Assert.Equal($"value\n{version}\n", info.Out.Replace("\r", "", StringComparison.Ordinal));
    }

    private static void Ok((int Code, string Out, string Err) r, string what) => Assert.True(r.Code == 0, $"{what} failed ({r.Code}):\n{r.Out}\n{r.Err}");

    private static string VersionOf(string file, string id) => file[(id.Length + 1)..^".nupkg".Length];

    private static void CheckLayout(string nupkg)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        var names = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("runtimes/linux-x64/native/libduckdb.so", names);
        foreach (var tfm in new[] { "net9.0", "net10.0" })
        {
            Assert.Contains($"lib/{tfm}/Duckton.dll", names);
            Assert.Contains($"lib/{tfm}/Duckton.xml", names);
            Assert.Contains($"lib/{tfm}/Duckton.Node.dll", names);
            Assert.Contains($"lib/{tfm}/Duckton.Core.dll", names);
            // Consumers compile against the façade alone: the lower layers' public types are not their API.
            Assert.Equal([$"ref/{tfm}/Duckton.dll", $"ref/{tfm}/Duckton.xml"], names.Where(n => n.StartsWith($"ref/{tfm}/", StringComparison.Ordinal)).Order());
        }
        var nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()).ReadToEnd();
        Assert.DoesNotContain("Duckton.Node", nuspec, StringComparison.Ordinal); // not a package dependency
        Assert.Contains("Microsoft.Extensions.Logging.Abstractions", nuspec, StringComparison.Ordinal);
    }

    /// <summary>The package source of the user's NuGet configuration (the registry this machine reaches).</summary>
    private static string RegistrySource()
    {
        var config = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "NuGet", "NuGet.Config");
        var m = File.Exists(config) ? SourceValue().Match(File.ReadAllText(config)) : Match.Empty;
        return m.Success ? m.Groups[1].Value : "https://api.nuget.org/v3/index.json";
    }

    [GeneratedRegex("<add\\s+key=\"[^\"]*\"\\s+value=\"(https?://[^\"]+)\"")]
    private static partial Regex SourceValue();

    /// <summary>The consumer: a one-machine grid (three hosts and a requester, each its own node) and an offline certificate check.</summary>
    private const string ConsumerProgram = """
        using Duckton;

        var root = Directory.CreateTempSubdirectory("duckton-consumer-").FullName;
        var hosts = new List<DucktonNode>();
        var seeds = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var host = new DucktonNode(new DucktonNodeOptions { ConfigDirectory = Path.Combine(root, $"host{i}") });
            hosts.Add(host);
            seeds.Add((await host.ShareAsync(new ShareOptions { Threads = 1 })).ListenAddress);
        }
        await using (var node = new DucktonNode(new DucktonNodeOptions { ConfigDirectory = Path.Combine(root, "me") }))
        {
            await node.JoinAsync(seeds);
            using var result = await node.QueryAsync("SELECT 42 AS answer", new QueryOptions { Replicas = 3, Quorum = 2, Placement = QueryPlacement.Remote });
            await foreach (var row in result.ReadRowsAsync())
            {
                var v = result.Verification;
                Console.WriteLine($"answer={row["answer"]} verified={v.Verified} local={v.ExecutedLocally} agreement>={(v.Agreement >= 2 ? 2 : v.Agreement)}");
            }
            var check = CertificateVerifier.Verify(result.Verification.Certificate!, result, quorum: 2);
            Console.WriteLine($"certificate valid={check.IsValid} hosts={check.Hosts.Count}");
            using var other = await node.QueryAsync("SELECT 43 AS answer", new QueryOptions { Placement = QueryPlacement.Local });
            Console.WriteLine($"tampered rows valid={CertificateVerifier.Verify(result.Verification.Certificate!, other, quorum: 2).IsValid}");
            Console.WriteLine($"version={DucktonNode.Version}");
        }
        foreach (var h in hosts)
        {
            await h.DisposeAsync();
        }
        Directory.Delete(root, recursive: true);
        """;
}
