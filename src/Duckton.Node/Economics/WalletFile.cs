using Duckton.Core.Configuration;
using Duckton.Core.Crypto;
using Duckton.Ton.Mnemonics;

namespace Duckton.Node.Economics;

/// <summary>
/// The node's wallet secret: 24 words in an owner-only file (0600 in a 0700 directory) under the configuration
/// directory. The words are read only to derive the key; they are never logged, returned or put in an error.
/// </summary>
internal static class WalletFile
{
    private const UnixFileMode FileMode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirMode700 = FileMode600 | UnixFileMode.UserExecute;

    /// <summary>Where a network's wallet is kept: <c>&lt;config dir&gt;/wallets/&lt;network&gt;.mnemonic</c>.</summary>
    public static string DefaultPath(string configDirectory, TonNetwork network) =>
        Path.Combine(configDirectory, "wallets", network.ToConfigString() + ".mnemonic");

    /// <summary>Writes <paramref name="words"/> to a new owner-only file; refuses to replace an existing one.</summary>
    public static void Write(string path, IReadOnlyList<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        TonMnemonic.Validate(words);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, DirMode700);
        }
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode600;
        }
        try
        {
            using var stream = new FileStream(path, options);
            stream.Write(System.Text.Encoding.UTF8.GetBytes(string.Join(' ', words) + "\n"));
            stream.Flush(flushToDisk: true);
        }
        catch (IOException) when (File.Exists(path))
        {
            throw new EconomicsException($"a wallet file already exists at {path}; it is kept (a second wallet would hide the first one's funds)");
        }
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, FileMode600); // the umask may have narrowed it further; never wider
        }
    }

    /// <summary>Reads and checks the words of a mnemonic file (errors name the file and a word's position, never a word).</summary>
    public static IReadOnlyList<string> Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EconomicsException($"the wallet file {path} is unreadable: {e.GetType().Name}");
        }
        var words = TonMnemonic.Split(text);
        try
        {
            TonMnemonic.Validate(words);
        }
        catch (TonMnemonicException e)
        {
            throw new EconomicsException($"the wallet file {path} does not hold a valid TON mnemonic: {e.Message}");
        }
        return words;
    }

    /// <summary>The wallet's key from its file.</summary>
    public static Ed25519Key Key(string path) => TonMnemonic.ToKey(Read(path));
}
