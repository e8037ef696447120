"""Kairos habilitation service.

COADHA: the RGC of each organisation, habilitations backed by signed authorisations, endings,
annual reviews, operator demands.
"""
