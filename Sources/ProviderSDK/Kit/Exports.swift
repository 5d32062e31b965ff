// Plugin authors import ProviderKit only: the C ABI and the data model come with it.
@_exported import BatchSenderABI
@_exported import ProviderModel
