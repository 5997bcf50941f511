"""SNMP for the collectors: :mod:`~collectors.snmp.api` (the session they call), :mod:`~collectors.snmp.client`
(the engines' owner that opens sessions), the native engine (:mod:`~collectors.snmp.ber`,
:mod:`~collectors.snmp.usm`, :mod:`~collectors.snmp.native`) and the pysnmp one (:mod:`~collectors.snmp.pysnmp_engine`).
"""
