/// The version `pipe --version` prints.
public enum PipeVersion {
    public static let current = "0.1.0"
}
