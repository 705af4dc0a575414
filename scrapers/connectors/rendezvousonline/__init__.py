from scrapers.connectors.rendezvousonline.config import Config
from scrapers.connectors.rendezvousonline.connector import RendezvousOnlineConnector

__all__ = ["Config", "RendezvousOnlineConnector"]
