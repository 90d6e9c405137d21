namespace Duckton.Cli.Tests;

/// <summary>
/// The repository's <c>./duckton</c> launcher, run on a copy of itself with a stand-in <c>dotnet</c> first on PATH (the
/// real build, a precompiled publish, takes minutes): it says on stderr that it builds and how long it took, keeps
/// stdout for the program, does not rebuild when nothing changed, and shows the log when the build fails.
/// </summary>
public class LauncherScriptTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("duckton-launcher-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private const string FakeDotnet = """
        #!/usr/bin/env bash
        if [ "$1" = publish ]; then
          args="$*"
          while [ $# -gt 0 ]; do if [ "$1" = -o ]; then out=$2; fi; shift; done
          echo "$args" > "$out/../publish-args"
          echo "build chatter on stdout"
          echo "build chatter on stderr" >&2
          if [ -f "$out/../fail" ]; then echo "error CS0001: made-up failure"; exit 1; fi
          touch "$out/duckton.dll"
          exit 0
        fi
        echo "program: $*"
        """;

    private CliRunner.Result Launch(params string[] args)
    {
        var bin = Path.Combine(_root, "bin");
        return CliRunner.Run("bash", [Path.Combine(_root, "duckton"), .. args],
            env: new Dictionary<string, string> { ["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH") });
    }

    private void Setup()
    {
        File.Copy(Path.Combine(CliRunner.RepoRoot, "duckton"), Path.Combine(_root, "duckton"));
        Directory.CreateDirectory(Path.Combine(_root, "src"));
        Directory.CreateDirectory(Path.Combine(_root, "eng"));
        File.WriteAllText(Path.Combine(_root, "src", "A.cs"), "// source");
        File.WriteAllText(Path.Combine(_root, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(_root, "Directory.Packages.props"), "<Project />");
        Directory.CreateDirectory(Path.Combine(_root, "bin"));
        var dotnet = Path.Combine(_root, "bin", "dotnet");
        File.WriteAllText(dotnet, FakeDotnet.Replace("\r", "", StringComparison.Ordinal) + "\n");
        File.SetUnixFileMode(dotnet, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [Fact]
    public void The_first_run_says_it_builds_and_how_long_it_took_on_stderr_and_stdout_stays_the_programs()
    {
        Setup();
        var r = Launch("sql", "-c", "SELECT 1");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal($"program: {Path.Combine(_root, ".cli-build", "duckton.dll")} sql -c SELECT 1\n", r.Stdout);
        Assert.Contains("duckton: building the CLI into .cli-build/", r.Stderr);
        Assert.Matches(@"duckton: built in \d+ s", r.Stderr);
        Assert.DoesNotContain("chatter", r.Stderr); // not a terminal: the build's own output stays in build.log
        Assert.Contains("chatter", File.ReadAllText(Path.Combine(_root, ".cli-build", "build.log")));
        // A publish (the project makes it precompiled for this machine's platform), with no runtime identifier of its
        // own: `-r` would restore and build every referenced library for that platform too.
        var publish = File.ReadAllText(Path.Combine(_root, "publish-args"));
        Assert.StartsWith("publish ", publish);
        Assert.Contains("-c Release", publish);
        Assert.DoesNotContain(" -r ", publish);

        r = Launch("sql");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr); // up to date: no build, no message
        Assert.StartsWith("program: ", r.Stdout);
    }

    [Fact]
    public void A_failed_build_shows_its_log_and_the_elapsed_time_and_runs_nothing()
    {
        Setup();
        File.WriteAllText(Path.Combine(_root, "fail"), "");
        var r = Launch("sql");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Contains("error CS0001: made-up failure", r.Stderr);
        Assert.Matches(@"duckton: build failed after \d+ s \(log above\)", r.Stderr);
    }
}
