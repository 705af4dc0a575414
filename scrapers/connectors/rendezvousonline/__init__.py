from scrapers.connectors.rendezvousonline.connector import RendezvousOnlineConnector

__all__ = ["RendezvousOnlineConnector"]
